import { join } from "../path.ts";
import type { Logger } from "../../lib/log.ts";
import { fileFor, parseManifest } from "../../lib/release_format/manifest.ts";
import { compareVersions } from "../../lib/release_format/semver.ts";
import { verifyBytes } from "../../lib/release_format/signing.ts";
import type { OutcomeReport } from "../../lib/protocol/release.ts";
import { DownloadRejected, type ReleaseClient } from "./hub_client.ts";
import { installLayout } from "./layout.ts";
import { updateState } from "./pending.ts";

/** What one update check did. */
export interface CheckResult {
  status: "none" | "up_to_date" | "installed" | "rejected" | "failed" | "busy";
  version?: string;
  message?: string;
}

export interface UpdaterOptions {
  installDir: string;
  stateDir: string;
  /** `uname -m` style: x86_64 or aarch64. */
  arch: string;
  currentVersion: string;
  trustedKeys: readonly string[];
  /** How long the new agent has to confirm its health after the switch. */
  confirmMs: number;
  client: ReleaseClient;
  log: Logger;
  /** Called after a switch: the process should exit so its supervisor starts the new binary. */
  restart(reason: string): void;
  now?: () => number;
}

/** Slack between the switch and the new agent's start (systemd's RestartSec and start-up). */
const RESTART_SLACK_MS = 30_000;

/**
 * Checks the hub for the release this host should run and installs it: the manifest must verify
 * against a trusted key and name a newer version (an older one only when an admin pinned it);
 * the file is downloaded beside the others, checked for size and SHA-256, and only then does
 * `current` switch to it, with the previous binary kept and the switch recorded as pending.
 */
export function createUpdater(o: UpdaterOptions) {
  const now = o.now ?? Date.now;
  const state = updateState(o.stateDir);
  const layout = installLayout(o.installDir);
  let running = false;

  async function report(r: Omit<OutcomeReport, "from_version">) {
    try {
      await o.client.report({ ...r, from_version: o.currentVersion });
    } catch (err) {
      o.log.warn("could not report the update outcome", { error: String(err) });
    }
  }

  async function check(): Promise<CheckResult> {
    const release = await o.client.current(o.arch);
    if (!release) return { status: "none" };
    const { version, pinned, rollout_id } = release;
    const fail = async (outcome: "rejected" | "failed", message: string): Promise<CheckResult> => {
      o.log.error(`update to ${version} ${outcome}: ${message}`);
      await report({ to_version: version, outcome, message, rollout_id });
      return { status: outcome, version, message };
    };
    const text = new TextEncoder().encode(release.manifest);
    if (!await verifyBytes(o.trustedKeys, text, release.signature)) {
      return fail("rejected", "the manifest's signature does not verify with a trusted key");
    }
    let manifest;
    try {
      manifest = parseManifest(release.manifest);
    } catch (err) {
      return fail("rejected", (err as Error).message);
    }
    if (manifest.version !== version) {
      return fail("rejected", `the manifest is for ${manifest.version}, not ${version}`);
    }
    const order = compareVersions(version, o.currentVersion);
    if (order === 0 || (order < 0 && !pinned)) return { status: "up_to_date", version };
    if ((await state.readBlocked()).includes(version)) {
      return { status: "up_to_date", version, message: "this version was rolled back here" };
    }
    const file = fileFor(manifest, o.arch);
    if (!file) return fail("failed", `the release has no file for ${o.arch}`);

    await Deno.mkdir(layout.versionsDir, { recursive: true, mode: 0o755 });
    const final = layout.versionPath(file.name);
    const partial = `${final}.${crypto.randomUUID().slice(0, 8)}.partial`;
    try {
      const got = await o.client.download(version, file, partial);
      if (got.size !== file.size) {
        throw new DownloadRejected(`size ${got.size} differs from the manifest's ${file.size}`);
      }
      if (got.sha256 !== file.sha256) {
        throw new DownloadRejected("SHA-256 differs from the manifest's");
      }
      await Deno.chmod(partial, 0o755);
      await Deno.rename(partial, final);
    } catch (err) {
      await Deno.remove(partial).catch(() => {});
      if (err instanceof DownloadRejected) return fail("rejected", err.message);
      return fail("failed", `download failed: ${(err as Error).message}`);
    }

    const previous = await layout.read("current");
    if (!previous) return fail("failed", `${join(o.installDir, "current")} is not a link`);
    const next = `versions/${file.name}`;
    const at = now();
    await state.writePending({
      from_version: o.currentVersion,
      to_version: version,
      previous,
      next,
      switched_at: at,
      deadline: at + o.confirmMs + RESTART_SLACK_MS,
      starts: 0,
      rollout_id,
    });
    await layout.point("previous", previous);
    await layout.point("current", next);
    o.log.info(`installed capstan-agent ${version}; restarting into it`, {
      from: o.currentVersion,
      file: final,
    });
    o.restart(`updated to ${version}`);
    return { status: "installed", version };
  }

  return {
    /** One check (a second one while a check runs answers "busy"). Never throws. */
    async check(): Promise<CheckResult> {
      if (running) return { status: "busy" };
      running = true;
      try {
        return await check();
      } catch (err) {
        o.log.warn("update check failed", { error: String(err) });
        return { status: "failed", message: String((err as Error).message ?? err) };
      } finally {
        running = false;
      }
    },
  };
}
export type Updater = ReturnType<typeof createUpdater>;
