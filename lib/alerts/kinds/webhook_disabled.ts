/**
 * webhook_disabled: an app's Git webhook got too many requests whose signature did not match its
 * secret, and the builds module refuses it for a while (pushes build nothing until then). An
 * instant alert per disabling: either the secret was changed at the Git host and not in Capstan,
 * or someone else is calling the endpoint — the organization should know either way.
 *
 * Its own kind rather than a stage of `build`: it is about no build, and its own rule lets an
 * organization send it elsewhere (to whoever answers for security) or keep it when it mutes builds.
 * One subject per app; a disabling told once, by when it began: a notice that began before the
 * subject last told one is that same disabling heard again (a new one can only begin after the
 * last ended, later than it was told).
 */
import type { EventRuleKind } from "./kind.ts";

/** "5 minutes", "1 minute", "45 seconds", "2 hours". */
function span(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  const [n, unit] = s < 60
    ? [s, "second"]
    : s < 7200
    ? [Math.round(s / 60), "minute"]
    : [Math.round(s / 3600), "hour"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** "2026-01-01 12:05 UTC". */
const utcMinute = (t: number) => `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** The webhook_disabled kind. */
export const webhookDisabled: EventRuleKind = {
  webhookDisabled(c, rule, e) {
    const s = c.subject(rule, `app:${e.app.id}/webhook`, "");
    if (s.lastEventAt !== null && s.lastEventAt >= e.since) return;
    const n = e.bad_signatures;
    c.instant(s, n, {
      hostName: null,
      containerName: null,
      title: `Webhook of app ${e.app.name} disabled for ${span(e.until - e.since)} after ${n} bad ${
        n === 1 ? "signature" : "signatures"
      }`,
      detail:
        `${n} webhook ${n === 1 ? "request" : "requests"} for ${e.app.name} had a signature ` +
        `that does not match its secret; pushes build nothing until ${
          utcMinute(e.until)
        }. If the ` +
        "secret was changed at the Git host, set the same one in the app's build settings; if not, " +
        "someone else is calling the webhook.",
    });
  },
};
