/**
 * Schedules and verification end to end, on both dialects, with the real restic through an
 * in-process agent on the real engine and a simulated hub clock: five scheduled snapshots over
 * five simulated days with keep_last 3 leave three, in restic's list and in the table; a
 * verification passes (badge ok with its date), then a tampered pack file in the filesystem
 * target's repository fails it (badge failed, the pack named) and raises the default alert.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { attachTestAgent } from "./support/agent.ts";
import { manualClock } from "./support/clock.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { cleanupSuite, dockerTestsIgnored, testLabels, testName } from "../lib/docker/testing.ts";

const SUITE = "snapshot-schedules";
const ignored = dockerTestsIgnored(SUITE);
const DAY = 86_400_000;

dbTest(
  "[docker] snapshot schedules and verification: 5 scheduled snapshots over simulated days with keep_last 3 leave 3 in restic and the table; verify ok, then a tampered pack fails it and alerts",
  async (h) => {
    if (ignored) return;
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const t = testApp(h, clock, undefined, { CAPSTAN_SNAPSHOT_VERIFY_READ_DATA: "100%" });
    await t.user("owner@acme.io", { org: "acme", role: "owner" });
    const orgId = (await t.services.orgs.bySlug("acme"))!.id;
    const agent = await attachTestAgent(t.services, orgId);
    const repo = await Deno.makeTempDir({ prefix: "capstan-sched-repo-" });
    const volume = testName(SUITE, "data");
    try {
      await agent.docker.createVolume({ name: volume, labels: testLabels(SUITE) });
      const dir = (await agent.docker.inspectVolume(volume)).Mountpoint;
      const target = await t.services.storageTargets.create(SYSTEM_CTX, orgId, {
        kind: "filesystem",
        name: "local",
        path: repo,
      });
      const schedules = t.services.snapshotSchedules;
      const s = await schedules.create(SYSTEM_CTX, orgId, {
        host_id: agent.host.id,
        volume,
        cron: "0 3 * * *",
        timezone: "Europe/Berlin",
        keep_last: 3,
      });

      for (let day = 0; day < 5; day++) {
        await Deno.writeTextFile(join(dir, `day-${day}.txt`), `day ${day}\n`.repeat(1000));
        clock.set((await schedules.get(orgId, s.id)).next_run_at!);
        const due = await schedules.runDue();
        assert.equal(due.started, 1, `day ${day}`);
        await due.done;
        const row = await schedules.get(orgId, s.id);
        assert.equal(row.last_error, null, `day ${day}: ${row.last_error}`);
        assert.ok(row.next_run_at! > clock.now());
      }
      // The next run is 03:00 in Berlin (02:00 UTC in January), a day after the last one.
      const last = await schedules.get(orgId, s.id);
      assert.equal(new Date(last.next_run_at!).toISOString(), "2026-01-06T02:00:00.000Z");

      const rows = await t.services.snapshotStore.snapshots(orgId, { status: "complete" });
      assert.equal(rows.length, 3, "keep_last 3 in the table");
      assert.equal(last.last_snapshot_id, rows[0].id);
      const opened = await t.services.storageTargets.open(orgId, target.id, () => repo);
      const listed = await agent.conn.call<{ snapshots: { id: string }[] }>("snapshots.list", {
        target: opened.target,
        password: opened.password,
      });
      assert.deepEqual(
        listed.snapshots.map((x) => x.id).sort(),
        rows.map((r) => r.restic_id).sort(),
        "keep_last 3 in restic's list, the same three",
      );

      // Verification: check plus a test restore of the newest snapshot passes.
      clock.advance(DAY);
      const verify = t.services.snapshotVerify;
      const started = await verify.verifyNow(SYSTEM_CTX, orgId, target.id);
      assert.equal(started.target.verify_status, "running");
      await assert.rejects(verify.verifyNow(SYSTEM_CTX, orgId, target.id), /is running/);
      const ok = await started.done;
      assert.equal(ok.verify_status, "ok", ok.verify_error ?? "");
      assert.equal(ok.verified_at, clock.now());
      const restores = await t.services.snapshotStore.restores(orgId);
      assert.deepEqual(
        restores.map((r) => [r.kind, r.status, r.snapshot_id]),
        [["verify", "complete", rows[0].id]],
      );
      const scratch = await agent.docker.listVolumes();
      assert.ok(
        !JSON.stringify(scratch).includes(restores[0].volume),
        "the scratch volume is removed",
      );

      // A tampered pack file: the check fails, the badge turns failed naming it, an alert.
      const packs: string[] = [];
      for await (const d of Deno.readDir(join(repo, "data"))) {
        for await (const p of Deno.readDir(join(repo, "data", d.name))) {
          packs.push(join(repo, "data", d.name, p.name));
        }
      }
      const victim = packs.sort()[0];
      await Deno.chmod(victim, 0o600);
      {
        using pack = await Deno.open(victim, { read: true, write: true });
        await pack.seek(10, Deno.SeekMode.Start);
        await pack.write(new TextEncoder().encode("TAMPERED"));
      }
      clock.advance(DAY);
      const bad = await (await verify.verifyNow(SYSTEM_CTX, orgId, target.id)).done;
      assert.equal(bad.verify_status, "failed");
      assert.equal(bad.verified_at, ok.verified_at, "the last pass keeps its date");
      assert.ok(
        bad.verify_error!.includes(victim.split("/").at(-1)!.slice(0, 8)),
        bad.verify_error!,
      );
      assert.ok(!bad.verify_error!.includes(opened.password));
      await t.services.alerts.idle();
      const alerts = await h.db.selectFrom("alerts").select(["title", "severity"]).execute();
      assert.deepEqual(alerts.map((a) => [a.title, a.severity]), [[
        "Verification of storage target local failed: its repository check found errors",
        "critical",
      ]]);
    } finally {
      await agent.stop();
      await cleanupSuite(agent.docker, SUITE).catch(() => {});
      agent.docker.close();
      await Deno.remove(repo, { recursive: true }).catch(() => {});
    }
  },
);
