/**
 * The update flow end to end: a real hub, the real agent program run under a small restart-on-exit
 * supervisor (what systemd does: ExecStartPre=guard --update-guard, ExecStart=current,
 * Restart=always), and releases published and rolled out on the hub.
 *
 * What is real: the hub, its release API and rollouts, the agent program (agent/main.ts) with its
 * updater, signature and SHA-256 checks, symlink switch, start-up guard and health confirmation,
 * the local Docker engine the agent reports. What stands in: `deno compile` cannot run here (no
 * denort), so each release "binary" is a small sh launcher that runs agent/main.ts with deno and
 * CAPSTAN_AGENT_VERSION_OVERRIDE set to its version; the broken release is a script that exits 1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HOST_TARGET, launcherScript, startReleaseHub } from "./support/releases.ts";
import { requestAgentUpdate } from "../lib/agents/update_request.ts";
import { installLayout } from "../agent/update/layout.ts";

const CTX = { actor: { type: "system" as const, name: "test" }, ip: null };
const TARGET = HOST_TARGET;

const BROKEN = `#!/bin/sh\necho "capstan-agent 9.9.9: broken build" >&2\nexit 1\n`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Restart-on-exit supervisor: before each start it runs `guard --update-guard` (like systemd's
 * ExecStartPre), then runs `current` until it exits, and starts again after a short pause.
 */
function supervise(installDir: string, env: Record<string, string>) {
  let stopping = false;
  let child: Deno.ChildProcess | undefined;
  const starts: string[] = [];
  const exits: number[] = [];
  const log: string[] = [];
  const pump = async (s: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) log.push(dec.decode(chunk, { stream: true }));
  };
  const loop = (async () => {
    while (!stopping) {
      const guard = await new Deno.Command(join(installDir, "guard"), {
        args: ["--update-guard"],
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      log.push(new TextDecoder().decode(guard.stderr));
      starts.push(await Deno.readLink(join(installDir, "current")));
      child = new Deno.Command(join(installDir, "current"), {
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const pumps = [pump(child.stdout), pump(child.stderr)];
      const status = await child.status;
      await Promise.all(pumps);
      exits.push(status.code);
      child = undefined;
      if (!stopping) await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    starts,
    exits,
    log,
    async stop() {
      stopping = true;
      try {
        child?.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await loop;
    },
  };
}

Deno.test({
  name:
    "[e2e] agent update: an admin publishes 0.2.0, the agent (0.1.0) updates on demand and confirms; a broken 0.3.0 rolls itself back and halts its rollout",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rh = await startReleaseHub("capstan-update-e2e-");
    const { root, hub, keys } = rh;
    const s = hub.services;
    let sup: ReturnType<typeof supervise> | undefined;
    try {
      // A host on the hub, and its enrollment token.
      await s.accounts.createUser(CTX, {
        email: "ops@example.com",
        name: "ops",
        password: "correct horse battery",
        isAdmin: true,
      });
      const user = (await s.users.byEmail("ops@example.com"))!;
      await s.accounts.ensureMembership(CTX, user.id, "acme", "owner");
      const org = (await s.orgs.bySlug("acme"))!;
      const { host, enrollment } = await s.hosts.create(CTX, org.id, { name: "edge-1" });

      // The install dir as install.sh lays it out for a binary install.
      const installDir = join(root, "opt");
      const layout = installLayout(installDir);
      await Deno.mkdir(layout.versionsDir, { recursive: true });
      const first = `capstan-agent-0.1.0-${TARGET}`;
      await Deno.writeTextFile(layout.versionPath(first), launcherScript("0.1.0"), { mode: 0o755 });
      await layout.point("current", `versions/${first}`);
      await layout.point("guard", `versions/${first}`);

      // Releases as `deno task agent:build` writes them (with stand-in binaries), signed.
      const release = (version: string, body: string) => rh.publish(version, body);

      const machineIdFile = join(root, "machine-id");
      await Deno.writeTextFile(machineIdFile, "e2e0update0machine0000000000001\n");
      const env: Record<string, string> = {
        PATH: Deno.env.get("PATH")!,
        HOME: Deno.env.get("HOME") ?? root,
        NO_COLOR: "1",
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_ENROLL_TOKEN: enrollment.token,
        CAPSTAN_AGENT_DIR: join(root, "state"),
        CAPSTAN_MACHINE_ID_FILE: machineIdFile,
        CAPSTAN_AGENT_INSTALL_DIR: installDir,
        CAPSTAN_METRICS_INTERVAL_MS: "0",
        // No periodic checks at first: 0.2.0 must come from the on-demand "Update agent".
        CAPSTAN_UPDATE_INTERVAL_MS: "0",
        CAPSTAN_UPDATE_CONFIRM_MS: "20000",
        CAPSTAN_RELEASE_PUBLIC_KEYS: keys.publicKey,
      };
      sup = supervise(installDir, env);
      const online = (version: string) =>
        waitFor(`the agent ${version} online`, async () => {
          const h = await s.hosts.get(org.id, host.id);
          return s.agents.isOnline(host.id) && h.agent_version === version;
        });
      await online("0.1.0");

      // 0.2.0: published, rolled out to every host, and fetched at once via "Update agent".
      await release("0.2.0", launcherScript("0.2.0"));
      const rollout2 = await s.releases.startRollout(CTX, "0.2.0", { percent: 100 });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await s.hosts.get(org.id, host.id)).agent_version, "0.1.0", "no check yet");
      // Agents started from now on check every 1.5 s (24 h by default); confirmation within 20 s.
      env.CAPSTAN_UPDATE_INTERVAL_MS = "1500";
      const asked = await requestAgentUpdate(s, CTX, org.id, host.id);
      assert.deepEqual(asked, { accepted: true });
      await online("0.2.0");
      const ok = await waitFor("the success report", async () => {
        const o = await s.releases.outcomesFor(host.id);
        return o.find((x) => x.to_version === "0.2.0");
      });
      assert.equal(ok.outcome, "succeeded", ok.message);
      assert.equal(ok.rollout_id, rollout2.id);
      const second = `versions/capstan-agent-0.2.0-${TARGET}`;
      assert.equal(await layout.read("current"), second);
      assert.equal(await layout.read("previous"), `versions/${first}`);
      await waitFor(
        "the guard to move to 0.2.0",
        async () => (await layout.read("guard")) === second,
      );
      await assert.rejects(Deno.stat(join(root, "state", "update-pending.json")));

      // 0.3.0 is broken: it exits at once. The periodic check installs it, the guard restores
      // 0.2.0 on the next start, the agent reports the rollback and the rollout halts itself.
      await release("0.3.0", BROKEN);
      const rollout3 = await s.releases.startRollout(CTX, "0.3.0", {
        percent: 100,
        max_failures: 0,
      });
      const failed = await waitFor("the rollback report", async () => {
        const o = await s.releases.outcomesFor(host.id);
        return o.find((x) => x.to_version === "0.3.0");
      }, 90_000);
      assert.equal(failed.outcome, "rolled_back");
      assert.match(failed.message, /0\.3\.0 exited before confirming its health; restored 0\.2\.0/);
      // The outcome row is stored before the rollout's failures are counted: wait for the halt.
      await waitFor(
        "the rollout to halt",
        async () => (await s.releases.rollout(rollout3.id)).status === "halted",
        10_000,
      );
      await online("0.2.0");
      assert.equal(await layout.read("current"), second);
      assert.ok(
        sup.starts.includes(`versions/capstan-agent-0.3.0-${TARGET}`),
        "the broken build was started once",
      );
      assert.equal(
        sup.starts.filter((x) => x.includes("0.3.0")).length,
        1,
        `started exactly once: ${sup.starts.join(", ")}`,
      );
      // The halted rollout is not retried: the agent stays on 0.2.0 through more checks.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await layout.read("current"), second);
      const audit = await s.audit.list({ action: "agent_rollout.halted", limit: 5 });
      assert.equal(audit.rows.length, 1);
      console.log(`starts: ${sup.starts.join(" → ")}; exit codes: ${sup.exits.join(", ")}`);
    } catch (err) {
      console.log(sup?.log.join("").slice(-6000));
      throw err;
    } finally {
      await sup?.stop();
      await rh.stop();
    }
  },
});
