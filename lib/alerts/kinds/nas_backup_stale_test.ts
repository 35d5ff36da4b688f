import assert from "node:assert/strict";
import { nasBackupStale } from "./nas_backup_stale.ts";
import type { NasStatus } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const MIN = 60_000;
const status = (o: Partial<NasStatus> = {}): NasStatus => ({
  org_id: "o1",
  target: { id: "n1", name: "office", host: "nas.lan" },
  error: null,
  stale_threshold_hours: 48,
  sites: [
    { name: "alpha", newest_mtime: T0, age_hours: 0, stale: false },
    { name: "beta", newest_mtime: T0 - 72 * 60 * MIN, age_hours: 72, stale: true },
  ],
  ...o,
});

Deno.test("nas_backup_stale fires once per stale site and resolves it when a newer backup appears, the site goes or the target is deleted", async () => {
  const r = rule({ name: "NAS", kind: "event", event: "nas_backup_stale" });
  const h = harness([r]);
  nasBackupStale.nasStatus!(h.at(T0), r, status());
  assert.equal((await lastInfo(h.ops))?.title, "NAS office: last backup of beta 72 hours ago");
  assert.deepEqual(h.take(), ["fire nas:n1/site:beta firing 72"]);
  nasBackupStale.nasStatus!(h.at(T0 + 15 * MIN), r, status());
  assert.deepEqual(h.take(), [], "still stale: not again");

  const fresh = status().sites.map((s) => ({ ...s, stale: false, age_hours: 0 }));
  nasBackupStale.nasStatus!(h.at(T0 + 30 * MIN), r, status({ sites: fresh }));
  assert.deepEqual(h.take(), ["resolve nas:n1/site:beta ok 72"]);

  nasBackupStale.nasStatus!(h.at(T0 + 45 * MIN), r, status());
  assert.deepEqual(h.take(), ["fire nas:n1/site:beta firing 72"]);
  nasBackupStale.nasStatus!(h.at(T0 + 60 * MIN), r, status({ sites: [fresh[0]] }));
  assert.deepEqual(h.take(), ["resolve nas:n1/site:beta ok 72"], "the site is gone");

  nasBackupStale.nasStatus!(h.at(T0 + 75 * MIN), r, status());
  h.take();
  nasBackupStale.nasStatus!(h.at(T0 + 90 * MIN), r, status({ removed: true, sites: [] }));
  assert.deepEqual(h.take(), ["resolve nas:n1/site:beta ok 72"], "the target is deleted");
});

Deno.test("nas_backup_stale: a NAS that cannot be read fires after the rule's hold, leaves the sites alone, and resolves at the next good check", async () => {
  const r = rule({ name: "NAS", kind: "event", event: "nas_backup_stale", hold_s: 1800 });
  const h = harness([r]);
  nasBackupStale.nasStatus!(h.at(T0), r, status());
  h.take();
  const failed = status({
    error: "Cannot check root@nas.lan:22: the connection was refused",
    sites: [],
  });
  nasBackupStale.nasStatus!(h.at(T0 + 15 * MIN), r, failed);
  assert.deepEqual(h.take(), ["sync nas:n1/connection pending null"], "one failed check waits");
  nasBackupStale.nasStatus!(h.at(T0 + 30 * MIN), r, failed);
  assert.deepEqual(h.take(), [], "within the hold");
  nasBackupStale.nasStatus!(h.at(T0 + 46 * MIN), r, failed);
  const info = await lastInfo(h.ops);
  assert.equal(info?.title, "NAS office: backups cannot be checked");
  assert.match(info?.detail ?? "", /connection was refused/);
  assert.deepEqual(
    h.take(),
    ["fire nas:n1/connection firing null"],
    "the stale site was not resolved",
  );
  nasBackupStale.nasStatus!(h.at(T0 + 60 * MIN), r, status());
  assert.deepEqual(h.take(), ["resolve nas:n1/connection ok null"]);

  // A single failure between good checks never fires.
  nasBackupStale.nasStatus!(h.at(T0 + 75 * MIN), r, failed);
  nasBackupStale.nasStatus!(h.at(T0 + 90 * MIN), r, status());
  assert.ok(!h.take().some((op) => op.startsWith("fire")));
  const conn = [...h.org.subjects.values()].find((x) => x.subject === "nas:n1/connection");
  assert.equal(conn?.state, "ok");
});

Deno.test("nas_backup_stale rules are organization-wide", () => assertOrgOnly("nas_backup_stale"));
