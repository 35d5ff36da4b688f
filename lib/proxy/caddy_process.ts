/**
 * Caddy run by the hub (`CAPSTAN_CADDY=run`): the embedded ingress of a one-machine install, the
 * way the embedded agent is its embedded host. Caddy starts with nothing but its admin API on a
 * Unix socket in the data directory (never a TCP port), keeps its certificates and CA there too,
 * and is restarted with a growing pause if it exits; after a restart the routes are loaded again
 * (`onRestart`). It stops with the hub.
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { adminConfig } from "./caddy_config.ts";

export interface CaddyProcessOptions {
  /** The `caddy` binary. */
  binary: string;
  /** Where Caddy keeps its admin socket, certificates and state. */
  dir: string;
  log: Logger;
  /** Caddy is up again after an exit: load the routes. */
  onRestart(): void;
}

/** The admin socket a hub-run Caddy listens on. */
export const managedCaddySocket = (dataDir: string) => join(dataDir, "caddy", "admin.sock");

/** Starts and supervises Caddy; resolves once its admin API answers. */
export async function startCaddyProcess(opts: CaddyProcessOptions) {
  const socket = join(opts.dir, "admin.sock");
  await Deno.mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const configFile = join(opts.dir, "initial.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ admin: adminConfig(`unix/${socket}`) }));
  let child: Deno.ChildProcess | null = null;
  let stopping = false;
  let pauseMs = 1000;

  async function up(): Promise<boolean> {
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
    try {
      const res = await fetch("http://caddy/config/", {
        client,
        signal: AbortSignal.timeout(1000),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  async function spawn(): Promise<void> {
    await Deno.remove(socket).catch(() => {});
    child = new Deno.Command(opts.binary, {
      args: ["run", "--config", configFile],
      env: { XDG_DATA_HOME: join(opts.dir, "data"), XDG_CONFIG_HOME: join(opts.dir, "config") },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const started = child;
    // Caddy logs JSON lines on stderr: warnings and errors go to the hub's log.
    void (async () => {
      let rest = "";
      for await (const chunk of started.stderr.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          if (/"level":"(warn|error)"/.test(line)) {
            opts.log.warn("caddy", { line: line.slice(0, 2000) });
          }
        }
      }
    })().catch(() => {});
    void started.status.then((s) => {
      if (stopping) return;
      opts.log.error("caddy exited; restarting", { code: s.code, pause_ms: pauseMs });
      setTimeout(async () => {
        if (stopping) return;
        await spawn();
        pauseMs = Math.min(pauseMs * 2, 60_000);
        for (let i = 0; i < 100 && !stopping; i++) {
          if (await up()) {
            pauseMs = 1000;
            opts.onRestart();
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }, pauseMs);
    });
  }

  await spawn();
  for (let i = 0; i < 300; i++) {
    if (await up()) break;
    if (i === 299) throw new Error(`Caddy did not answer on ${socket} within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    async stop() {
      stopping = true;
      try {
        child?.kill("SIGTERM");
      } catch { /* already gone */ }
      await child?.status;
    },
  };
}
