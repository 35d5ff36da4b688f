/**
 * The agent's updater against a release served from memory (the HTTP part stands in; everything
 * on disk is real): signature checks, downgrade refusal, a flipped byte, the atomic switch, and
 * the start-up guard's rollback of a binary that exits before confirming.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { silentLogger } from "../lib/log.ts";
import { generateReleaseKeys, sha256OfBytes, signBytes } from "../lib/release_format/signing.ts";
import type { OutcomeReport } from "../lib/protocol/release.ts";
import type { ManifestFile } from "../lib/release_format/manifest.ts";
import { createUpdater } from "../agent/update/updater.ts";
import { DownloadRejected, type ReleaseClient } from "../agent/update/hub_client.ts";
import { installLayout } from "../agent/update/layout.ts";
import { updateState } from "../agent/update/pending.ts";
import { runUpdateGuard } from "../agent/update/guard.ts";
import { jittered } from "../agent/update/mod.ts";

const keys = await generateReleaseKeys();
const otherKeys = await generateReleaseKeys();

async function release(
  version: string,
  body: Uint8Array<ArrayBuffer>,
  privateKey = keys.privateKey,
) {
  const name = `capstan-agent-${version}-x86_64-unknown-linux-gnu`;
  const manifest = JSON.stringify({
    format: 1,
    product: "capstan-agent",
    version,
    created_at: "2026-01-01T00:00:00Z",
    files: [{
      name,
      target: "x86_64-unknown-linux-gnu",
      arch: "x86_64",
      sha256: await sha256OfBytes(body),
      size: body.byteLength,
    }],
  });
  const signature = await signBytes(privateKey, new TextEncoder().encode(manifest));
  return { version, manifest, signature, name, body };
}

type Rel = Awaited<ReturnType<typeof release>>;

/** A release client serving `rel` from memory; `serve` may alter the bytes sent. */
function memoryClient(
  rel: Rel | undefined,
  opts: {
    pinned?: boolean;
    serve?: (b: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
    manifest?: string;
  } = {},
) {
  const reports: OutcomeReport[] = [];
  const client: ReleaseClient = {
    current: () =>
      Promise.resolve(
        rel
          ? {
            version: rel.version,
            manifest: opts.manifest ?? rel.manifest,
            signature: rel.signature,
            pinned: opts.pinned ?? false,
            rollout_id: "r1",
          }
          : null,
      ),
    async download(_v, file: ManifestFile, path) {
      const bytes = opts.serve ? opts.serve(rel!.body) : rel!.body;
      if (bytes.byteLength > file.size) throw new DownloadRejected("larger than the manifest");
      await Deno.writeFile(path, bytes, { createNew: true, mode: 0o600 });
      return { size: bytes.byteLength, sha256: await sha256OfBytes(bytes) };
    },
    report(r) {
      reports.push(r);
      return Promise.resolve();
    },
  };
  return { client, reports };
}

/** An install dir with `current` and `guard` pointing at a "0.1.0" binary. */
async function installDir() {
  const root = await Deno.makeTempDir({ prefix: "capstan-update-" });
  const dir = join(root, "opt");
  const state = join(root, "state");
  const layout = installLayout(dir);
  await Deno.mkdir(layout.versionsDir, { recursive: true });
  await Deno.writeTextFile(layout.versionPath("capstan-agent-0.1.0"), "old\n", { mode: 0o755 });
  await layout.point("current", "versions/capstan-agent-0.1.0");
  await layout.point("guard", "versions/capstan-agent-0.1.0");
  return { root, dir, state, layout };
}

function updaterFor(
  d: Awaited<ReturnType<typeof installDir>>,
  client: ReleaseClient,
  current = "0.1.0",
) {
  const restarts: string[] = [];
  const u = createUpdater({
    installDir: d.dir,
    stateDir: d.state,
    arch: "x86_64",
    currentVersion: current,
    trustedKeys: [keys.publicKey],
    confirmMs: 60_000,
    client,
    log: silentLogger,
    restart: (why) => restarts.push(why),
  });
  return { u, restarts };
}

const bin = (text: string) => new TextEncoder().encode(text);

Deno.test("updater: a good signed newer release is downloaded, verified and switched to atomically; the previous binary is kept", async () => {
  const d = await installDir();
  try {
    const rel = await release("0.2.0", bin("#!/bin/sh\necho new\n"));
    const { client, reports } = memoryClient(rel);
    const { u, restarts } = updaterFor(d, client);
    const r = await u.check();
    assert.equal(r.status, "installed", JSON.stringify(r));
    assert.equal(await d.layout.read("current"), `versions/${rel.name}`);
    assert.equal(await d.layout.read("previous"), "versions/capstan-agent-0.1.0");
    assert.equal(
      await d.layout.read("guard"),
      "versions/capstan-agent-0.1.0",
      "guard stays on the known-good binary",
    );
    assert.equal(await Deno.readTextFile(d.layout.versionPath("capstan-agent-0.1.0")), "old\n");
    assert.equal(await Deno.readTextFile(join(d.dir, "current")), "#!/bin/sh\necho new\n");
    assert.equal((await Deno.stat(d.layout.versionPath(rel.name))).mode! & 0o777, 0o755);
    const pending = await updateState(d.state).readPending();
    assert.equal(pending?.to_version, "0.2.0");
    assert.equal(pending?.starts, 0);
    assert.deepEqual(restarts, ["updated to 0.2.0"]);
    assert.deepEqual(reports, [], "success is reported by the new agent, not the old one");
    // No stray temporary files next to the binaries.
    const names = [...Deno.readDirSync(d.layout.versionsDir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["capstan-agent-0.1.0", rel.name].sort());
  } finally {
    await Deno.remove(d.root, { recursive: true });
  }
});

Deno.test("updater: a tampered manifest, a wrong key and a flipped byte anywhere are rejected and reported; nothing switches", async () => {
  const body = bin("#!/bin/sh\n" + "x".repeat(300) + "\n");
  const good = await release("0.2.0", body);
  const cases: [string, ReturnType<typeof memoryClient>, RegExp][] = [
    [
      "tampered manifest",
      memoryClient(good, { manifest: good.manifest.replace('"size":', '"size": ') }),
      /signature/,
    ],
    ["wrong key", memoryClient(await release("0.2.0", body, otherKeys.privateKey)), /signature/],
  ];
  for (const at of [0, 150, body.byteLength - 1]) {
    cases.push([
      `flipped byte at ${at}`,
      memoryClient(good, {
        serve: (b) => {
          const c = b.slice();
          c[at] ^= 0x01;
          return c;
        },
      }),
      /SHA-256/,
    ]);
  }
  cases.push(["truncated", memoryClient(good, { serve: (b) => b.slice(0, -1) }), /size/]);
  for (const [what, { client, reports }, message] of cases) {
    const d = await installDir();
    try {
      const { u, restarts } = updaterFor(d, client);
      const r = await u.check();
      assert.equal(r.status, "rejected", what);
      assert.match(r.message!, message, what);
      assert.equal(await d.layout.read("current"), "versions/capstan-agent-0.1.0", what);
      assert.deepEqual(restarts, [], what);
      assert.equal(await updateState(d.state).readPending(), undefined, what);
      assert.equal(reports.length, 1, what);
      assert.equal(reports[0].outcome, "rejected");
      const names = [...Deno.readDirSync(d.layout.versionsDir)].map((e) => e.name);
      assert.deepEqual(names, ["capstan-agent-0.1.0"], `${what}: the bad download is removed`);
    } finally {
      await Deno.remove(d.root, { recursive: true });
    }
  }
});

Deno.test("updater: an older or equal version is refused unless an admin pinned it", async () => {
  const d = await installDir();
  try {
    const older = await release("0.0.9", bin("older\n"));
    for (const rel of [older, await release("0.1.0", bin("same\n"))]) {
      const { client } = memoryClient(rel);
      const r = await updaterFor(d, client).u.check();
      assert.equal(r.status, "up_to_date", rel.version);
    }
    const pinned = memoryClient(older, { pinned: true });
    const r = await updaterFor(d, pinned.client).u.check();
    assert.equal(r.status, "installed", "a pinned downgrade is allowed");
    assert.equal(await d.layout.read("current"), `versions/${older.name}`);
    // No release for this host at all.
    assert.equal((await updaterFor(d, memoryClient(undefined).client).u.check()).status, "none");
  } finally {
    await Deno.remove(d.root, { recursive: true });
  }
});

Deno.test("runUpdateGuard(): one trial start; a second start before confirmation (the new binary exited) or a passed deadline restores the previous binary", async () => {
  for (const how of ["exited", "late"] as const) {
    const d = await installDir();
    try {
      const rel = await release("0.2.0", bin("#!/bin/sh\nexit 1\n"));
      const { u } = updaterFor(d, memoryClient(rel).client);
      assert.equal((await u.check()).status, "installed");
      const pending = (await updateState(d.state).readPending())!;
      assert.equal(
        (await runUpdateGuard({ installDir: d.dir, stateDir: d.state })).action,
        "trial",
      );
      const now = how === "late" ? pending.deadline + 1 : Date.now();
      if (how === "late") {
        // A late start (say the machine was off) is not given its trial.
        await updateState(d.state).writePending({ ...pending, starts: 0 });
      }
      const g = await runUpdateGuard({ installDir: d.dir, stateDir: d.state, now });
      assert.equal(g.action, "rolled_back", how);
      assert.match(
        g.message!,
        how === "late" ? /did not confirm its health in time/ : /exited before confirming/,
      );
      assert.equal(await d.layout.read("current"), "versions/capstan-agent-0.1.0");
      assert.equal(await updateState(d.state).readPending(), undefined);
      const result = await updateState(d.state).readResult();
      assert.equal(result?.outcome, "rolled_back");
      assert.equal(result?.to_version, "0.2.0");
      assert.equal((await runUpdateGuard({ installDir: d.dir, stateDir: d.state })).action, "none");
      // The guard blocked the rolled-back version: it is not installed again.
      assert.deepEqual(await updateState(d.state).readBlocked(), ["0.2.0"]);
      assert.equal((await u.check()).status, "up_to_date");
    } finally {
      await Deno.remove(d.root, { recursive: true });
    }
  }
});

Deno.test("jittered() stays within ±10 % of the interval", () => {
  assert.equal(jittered(86_400_000, () => 0), 77_760_000);
  assert.equal(jittered(86_400_000, () => 1), 95_040_000);
  assert.equal(jittered(1000, () => 0.5), 1000);
});
