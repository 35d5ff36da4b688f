/**
 * nas_backup_stale: a site on an organization's NAS (a direct child of its backup root, lib/nas)
 * has had nothing newer than the target's threshold (`nas_stale_threshold_hours`, 48 by default),
 * or the NAS could not be read at all. Fed by each check of a target (`nas.status`, every 15
 * minutes and on "Check now").
 *
 * One kind for both, so one rule routes everything about backups going unseen; they are told apart
 * by subject: `nas:<target id>/site:<name>` per site, `nas:<target id>/connection` for the NAS.
 * A stale site fires once and resolves when a check finds a newer backup, or the site is gone, or
 * the target is deleted; a failed check says nothing of the sites (their subjects stay as they
 * were). A failing connection waits out the rule's hold (the default rule: 30 minutes, so one
 * dropped check of a NAS that sleeps is no alert) and resolves at the next good check.
 */
import type { NasStatus } from "../../nas/events.ts";
import type { EventRuleKind } from "./kind.ts";

const prefix = (targetId: string) => `nas:${targetId}/`;
const siteSubject = (targetId: string, site: string) => `${prefix(targetId)}site:${site}`;
const connectionSubject = (targetId: string) => `${prefix(targetId)}connection`;

/** "26 hours", "1 hour": the words of the NAS page ("last backup N hours ago"). */
const hours = (n: number) => `${n} hour${n === 1 ? "" : "s"}`;

/** The nas_backup_stale kind. */
export const nasBackupStale: EventRuleKind = {
  nasStatus(c, rule, st: NasStatus) {
    const t = st.target;
    if (st.removed) {
      c.each((s, r) => {
        if (r.id === rule.id && s.subject.startsWith(prefix(t.id))) c.resolve(s);
      });
      return;
    }
    if (st.error !== null) {
      const s = c.subject(rule, connectionSubject(t.id), "");
      if (s.state === "firing") return;
      if (s.state === "ok" && rule.holdMs > 0) {
        s.state = "pending";
        s.since = c.now;
        c.sync(s);
        return;
      }
      if (s.state === "pending" && c.now - s.since < rule.holdMs) return;
      s.name = t.name;
      c.fire(s, null, {
        hostName: t.host,
        containerName: null,
        title: `NAS ${t.name}: backups cannot be checked`,
        detail: st.error,
      });
      return;
    }
    const conn = c.existing(rule, connectionSubject(t.id));
    if (conn) c.resolve(conn);
    const present = new Set<string>();
    for (const site of st.sites) {
      const name = siteSubject(t.id, site.name);
      present.add(name);
      if (!site.stale) {
        const s = c.existing(rule, name);
        if (s) c.resolve(s);
        continue;
      }
      const s = c.subject(rule, name, "");
      if (s.state === "firing") continue;
      s.name = site.name;
      c.fire(s, site.age_hours, {
        hostName: t.host,
        containerName: null,
        title: `NAS ${t.name}: last backup of ${site.name} ${hours(site.age_hours)} ago`,
        detail: `Nothing in ${site.name} on ${t.name} is newer than ${
          new Date(site.newest_mtime).toISOString()
        }, past the threshold of ${st.stale_threshold_hours} hours: its backups may have stopped`,
      });
    }
    // A site that is gone from the backup root has nothing left to be stale.
    c.each((s, r) => {
      if (r.id !== rule.id || !s.subject.startsWith(`${prefix(t.id)}site:`)) return;
      if (!present.has(s.subject)) c.resolve(s);
    });
  },
};
