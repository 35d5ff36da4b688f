/**
 * Agent releases on the hub, on both dialects: publishing verifies the signature (good, tampered,
 * wrong key) and every file; uploads through the API in chunks refuse a flipped byte; staged
 * rollouts reach a stable share of hosts or a label; outcomes halt a failing rollout; who may call
 * what.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { statusOf } from "./support/errors.ts";
import { generateReleaseKeys } from "../lib/release_format/signing.ts";
import { readReleaseDir, writeReleaseManifest } from "../lib/releases/release_dir.ts";
import { RELEASE_KEYS_FILE } from "../lib/releases/keys.ts";
import { hostBucket } from "../lib/releases/rollout.ts";

const keys = await generateReleaseKeys();
const stranger = await generateReleaseKeys();

/** A release directory with one "binary" per target, signed with `privateKey`. */
async function releaseDir(version: string, privateKey = keys.privateKey) {
  const dir = await Deno.makeTempDir({ prefix: "capstan-rel-" });
  const files = [];
  for (const target of ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const) {
    const path = join(dir, `capstan-agent-${version}-${target}`);
    // Larger than one upload chunk, so the API test sends several.
    const body = new Uint8Array(700 * 1024);
    crypto.getRandomValues(body.subarray(0, 65536));
    await Deno.writeFile(path, body);
    files.push({ path, target });
  }
  await writeReleaseManifest(dir, version, files, privateKey);
  return dir;
}

async function setup(h: Parameters<Parameters<typeof dbTest>[1]>[0]) {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-rel-data-" });
  await Deno.writeTextFile(join(dataDir, RELEASE_KEYS_FILE), keys.publicKey + "\n");
  const t = testApp(h, undefined, undefined, { CAPSTAN_DATA_DIR: dataDir });
  const s = t.services;
  const admin = await t.user("root@example.com", { admin: true });
  const owner = await t.user("owner@example.com", { org: "acme", role: "owner" });
  const org = (await s.orgs.bySlug("acme"))!;
  const hosts: { id: string; token: string; name: string }[] = [];
  const addHost = async (name: string, labels: Record<string, string> = {}) => {
    const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name, labels });
    const { token } = await s.hosts.enroll(SYSTEM_CTX, {
      token: enrollment.token,
      machineId: `machine-${name}-0001`,
      hostname: name,
    });
    hosts.push({ id: host.id, token, name });
    return { id: host.id, token, name };
  };
  const cleanup = () => Deno.remove(dataDir, { recursive: true });
  return { t, s, admin, owner, org, addHost, hosts, dataDir, cleanup };
}

dbTest(
  "[e2e] agent releases: publish verifies the signature (good, tampered, wrong key) and the files",
  async (h) => {
    const x = await setup(h);
    try {
      const good = await releaseDir("0.2.0");
      const rel = await readReleaseDir(good);
      const ctx = SYSTEM_CTX;
      const tampered = rel.manifestText.replace('"version": "0.2.0"', '"version": "0.2.1"');
      await assert.rejects(
        x.s.releases.publish(ctx, { ...rel, manifestText: tampered }),
        (e: { code?: string }) => e.code === "bad_signature",
      );
      const wrongKey = await releaseDir("0.2.0", stranger.privateKey);
      await assert.rejects(
        x.s.releases.publish(ctx, await readReleaseDir(wrongKey)),
        (e: { code?: string }) => e.code === "bad_signature",
      );
      // A file that differs from the manifest (one flipped byte) is refused whole.
      const name = rel.manifest.files[0].name;
      const bytes = await Deno.readFile(join(good, name));
      bytes[12345] ^= 0x80;
      const flipped = await Deno.makeTempDir();
      await Deno.writeFile(join(flipped, name), bytes);
      await assert.rejects(
        x.s.releases.publish(ctx, {
          ...rel,
          paths: new Map([...rel.paths, [name, join(flipped, name)]]),
        }),
        (e: { code?: string }) => e.code === "file_mismatch",
      );
      assert.equal((await x.s.releases.list()).length, 0, "nothing stored by failed publishes");

      const row = await x.s.releases.publish(ctx, rel);
      assert.equal(row.version, "0.2.0");
      assert.equal(row.status, "ready");
      await assert.rejects(
        x.s.releases.publish(ctx, rel),
        (e) => statusOf(e) === 409,
      );
      const stored = await Deno.readFile(x.s.releases.filePath("0.2.0", name));
      assert.deepEqual(stored, await Deno.readFile(join(good, name)));
      const audit = await x.s.audit.list({ action: "agent_release.published", limit: 10 });
      assert.equal(audit.rows.filter((r) => r.status === "ok").length, 1);
      for (const d of [good, wrongKey, flipped]) await Deno.remove(d, { recursive: true });
    } finally {
      await x.cleanup();
    }
  },
);

dbTest(
  "[e2e] agent releases API: chunked upload by a platform admin, a flipped byte refused, rollout, agent check and download",
  async (h) => {
    const x = await setup(h);
    try {
      const dir = await releaseDir("0.3.0");
      const rel = await readReleaseDir(dir);
      const adminReq = (path: string, init: Parameters<typeof x.t.request>[1] = {}) =>
        x.t.request(path, { cookie: x.admin.cookie, ...init });

      // Who may call: no one without credentials; an org owner is not a platform admin.
      assert.equal((await x.t.request("/api/v1/agent/releases")).status, 401);
      assert.equal(
        (await x.t.request("/api/v1/agent/releases", { cookie: x.owner.cookie })).status,
        403,
      );
      assert.equal((await x.t.request("/api/v1/agent/releases/current?arch=x86_64")).status, 401);

      // A bad signature is refused before anything is stored.
      const bad = await adminReq("/api/v1/agent/releases", {
        method: "POST",
        json: { manifest: rel.manifestText + " ", signature: rel.signature },
      });
      assert.equal(bad.status, 422);
      assert.equal((await bad.json()).error.code, "bad_signature");

      const created = await adminReq("/api/v1/agent/releases", {
        method: "POST",
        json: { manifest: rel.manifestText, signature: rel.signature },
      });
      assert.equal(created.status, 201, await created.clone().text());

      const upload = async (name: string, bytes: Uint8Array) => {
        let last;
        for (let off = 0; off < bytes.byteLength; off += 512 * 1024) {
          const chunk = bytes.subarray(off, Math.min(off + 512 * 1024, bytes.byteLength));
          last = await adminReq(`/api/v1/agent/releases/0.3.0/files/${name}?offset=${off}`, {
            method: "PUT",
            headers: { "content-type": "application/octet-stream" },
            body: chunk.slice(),
          });
          if (last.status !== 200) return last;
        }
        return last!;
      };
      const [f1, f2] = rel.manifest.files;
      const b1 = await Deno.readFile(join(dir, f1.name));
      const flipped = b1.slice();
      flipped[b1.byteLength - 1] ^= 1;
      const refused = await upload(f1.name, flipped);
      assert.equal(refused.status, 422);
      assert.equal((await refused.json()).error.code, "file_mismatch");
      // Wrong offset is a conflict, not a corruption.
      const wrong = await adminReq(`/api/v1/agent/releases/0.3.0/files/${f1.name}?offset=5`, {
        method: "PUT",
        body: new Uint8Array(10),
      });
      assert.equal(wrong.status, 409);
      assert.equal((await upload(f1.name, b1)).status, 200);
      const done = await upload(f2.name, await Deno.readFile(join(dir, f2.name)));
      assert.deepEqual(await done.json(), {
        received: f2.size,
        complete: true,
        release_ready: true,
      });

      const host = await x.addHost("web-1");
      const agentGet = (path: string) =>
        x.t.request(path, { headers: { authorization: `Bearer ${host.token}` } });
      // No rollout yet: nothing to run.
      assert.deepEqual(
        await (await agentGet("/api/v1/agent/releases/current?arch=x86_64")).json(),
        {
          release: null,
        },
      );
      const started = await adminReq("/api/v1/agent/releases/0.3.0/rollouts", {
        method: "POST",
        json: { percent: 100 },
      });
      assert.equal(started.status, 201, await started.clone().text());
      const cur = await (await agentGet("/api/v1/agent/releases/current?arch=x86_64")).json();
      assert.equal(cur.release.version, "0.3.0");
      assert.equal(cur.release.manifest, rel.manifestText, "the exact signed bytes");
      const file = await agentGet(`/api/v1/agent/releases/0.3.0/files/${f1.name}`);
      assert.equal(file.status, 200);
      assert.deepEqual(new Uint8Array(await file.arrayBuffer()), b1);
      // The install script's public download: the release rolled out to every host.
      const install = await x.t.request("/api/v1/agent/releases/install/x86_64");
      assert.equal(install.status, 200);
      assert.equal(install.headers.get("x-capstan-agent-version"), "0.3.0");
      assert.equal(install.headers.get("x-capstan-agent-sha256"), f1.sha256);
      await install.body?.cancel();

      // The OpenAPI document lists the release routes.
      const doc = await (await x.t.request("/api/v1/openapi.json")).json();
      for (
        const p of [
          "/api/v1/agent/releases",
          "/api/v1/agent/releases/{version}/rollouts",
          "/api/v1/agent/releases/current",
        ]
      ) {
        assert.ok(doc.paths[p], p);
      }
      await Deno.remove(dir, { recursive: true });
    } finally {
      await x.cleanup();
    }
  },
);

dbTest(
  "[e2e] staged rollout: stable share of hosts, label stage, and a halt when failures exceed the limit",
  async (h) => {
    const x = await setup(h);
    try {
      const dir = await releaseDir("0.4.0");
      await x.s.releases.publish(SYSTEM_CTX, await readReleaseDir(dir));
      for (let i = 0; i < 20; i++) await x.addHost(`node-${i}`, i < 3 ? { ring: "canary" } : {});
      const hostsOf = async () =>
        await Promise.all(
          x.hosts.map(async (h) => ({
            ...h,
            labels: (await x.s.hosts.get(x.org.id, h.id)).labels,
          })),
        );
      const all = await hostsOf();
      const picked = async () => {
        const out = [];
        for (const h of all) if (await x.s.releases.currentFor(h, "x86_64")) out.push(h.name);
        return out;
      };

      // Label stage: only the canaries.
      await x.s.releases.startRollout(SYSTEM_CTX, "0.4.0", { percent: 100, label: "ring=canary" });
      assert.deepEqual(await picked(), ["node-0", "node-1", "node-2"]);

      // Percentage stage: exactly the hosts whose stable bucket is below the share; widening adds.
      const r30 = await x.s.releases.startRollout(SYSTEM_CTX, "0.4.0", {
        percent: 30,
        max_failures: 1,
        max_failure_percent: 100,
      });
      const expected30 = [];
      for (const h of all) if ((await hostBucket(h.id)) < 30) expected30.push(h.name);
      assert.deepEqual(await picked(), expected30);
      await x.s.releases.changeRollout(SYSTEM_CTX, r30.id, { percent: 60 });
      const at60 = await picked();
      for (const n of expected30) assert.ok(at60.includes(n), `${n} stays in when widening`);
      assert.ok(at60.length >= expected30.length);

      // Outcomes: one failure is within the limit of 1; the second halts the rollout.
      const target = all.filter((h) => at60.includes(h.name));
      assert.ok(target.length >= 3, "enough hosts in the stage for this test");
      const report = (i: number, outcome: "succeeded" | "rolled_back" | "rejected") =>
        x.s.releases.recordOutcome({ id: target[i].id, org_id: x.org.id, name: target[i].name }, {
          from_version: "0.3.0",
          to_version: "0.4.0",
          outcome,
          message: outcome,
          rollout_id: r30.id,
        });
      assert.deepEqual(await report(0, "succeeded"), { halted: false });
      assert.deepEqual(await report(1, "rolled_back"), { halted: false });
      // The same host failing again still counts once.
      assert.deepEqual(await report(1, "rolled_back"), { halted: false });
      const halt = await report(2, "rejected");
      assert.equal(halt.halted, true);
      assert.match(halt.reason!, /2 failed updates exceed the limit of 1/);
      assert.deepEqual(await picked(), [], "a halted rollout reaches no host");
      const view = await x.s.releases.rollout(r30.id);
      assert.equal(view.status, "halted");
      assert.equal(view.failed, 2);
      assert.equal(view.succeeded, 1);
      const audit = await x.s.audit.list({ action: "agent_rollout.halted", limit: 5 });
      assert.equal(audit.rows.length, 1);
      const outcomes = await x.s.releases.outcomesFor(target[1].id);
      assert.equal(outcomes[0].outcome, "rolled_back");

      // A percentage threshold halts too: 1 failure of the hosts reached exceeds 0 %.
      const pct = await x.s.releases.startRollout(SYSTEM_CTX, "0.4.0", {
        percent: 100,
        max_failures: 100,
        max_failure_percent: 0,
      });
      const r = await x.s.releases.recordOutcome({
        id: all[5].id,
        org_id: x.org.id,
        name: all[5].name,
      }, {
        from_version: "0.3.0",
        to_version: "0.4.0",
        outcome: "failed",
        message: "download failed",
        rollout_id: pct.id,
      });
      assert.equal(r.halted, true);
      assert.match(r.reason!, /% of 20 hosts failed/);
      await Deno.remove(dir, { recursive: true });
    } finally {
      await x.cleanup();
    }
  },
);
