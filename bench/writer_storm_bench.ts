/**
 * Hub memory under write load: the hub as `deno task start` runs it (its own process, SQLite, heap
 * sized by CAPSTAN_MAX_HEAP_MB), 50 API writers for 30 s (create a host, relabel it, remove it:
 * three audited writes a loop), then 10 s idle. Resident memory is read from /proc.
 * `deno run -A bench/writer_storm_bench.ts [--heap-mb N]` runs it alone.
 */
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WRITERS = 50;
const STORM_MS = 30_000;
const IDLE_MS = 10_000;

/** Resident and peak resident memory of a process, MB. */
async function rss(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** An owner of org "bench" with a write token, made in the data dir's database before the hub starts. */
async function seed(dataDir: string): Promise<string> {
  const config = loadConfig({ CAPSTAN_DATA_DIR: dataDir });
  const dbh = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(dbh.db);
    const s = createServices({ config, dbh, bus: createMemoryBus() });
    const sys = { actor: { type: "system" as const, name: "bench" } };
    const user = await s.accounts.createUser(sys, {
      email: "storm@x.io",
      name: "storm",
      password: "storm-password-1",
    });
    await s.accounts.ensureMembership(sys, user.id, "bench", "owner");
    const org = (await s.orgs.bySlug("bench"))!;
    const { token } = await s.tokens.create({
      userId: user.id,
      orgId: org.id,
      name: "storm",
      scope: "write",
      expiresAt: null,
    });
    return token;
  } finally {
    await dbh.close();
  }
}

/** Starts `deno task start`'s command in `dataDir`; resolves with its URL once it listens. */
async function spawnHub(dataDir: string, env: Record<string, string>) {
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start"],
    cwd: ROOT,
    env: {
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_PORT: String(port),
      CAPSTAN_LOCAL_AGENT: "0",
      CAPSTAN_LOG_LEVEL: "warn",
      CAPSTAN_HOST: "127.0.0.1",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error("bench hub did not start within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, pid: await hubPid(child.pid) };
}

/**
 * The hub's own process: `deno task` runs it as a child, and main.ts may re-exec itself once to
 * size the heap, so the hub is the deepest descendant of the spawned process.
 */
async function hubPid(root: number): Promise<number> {
  let pid = root;
  for (;;) {
    const children = (await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`).catch(() => ""))
      .trim().split(/\s+/).filter(Boolean).map(Number);
    if (!children.length) return pid;
    pid = children[0];
  }
}

/** Runs the storm against a hub started with `env`; returns its figures. */
export async function writerStorm(env: Record<string, string> = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-storm-" });
  const token = await seed(dataDir);
  const hub = await spawnHub(dataDir, env);
  try {
    const before = await rss(hub.pid);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const api = `${hub.url}/api/v1/orgs/bench/hosts`;
    const send = async (method: string, url: string, body?: unknown) => {
      const r = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    };
    let writes = 0;
    let peak = before.rss;
    const sampler = setInterval(() => {
      rss(hub.pid).then((m) => (peak = Math.max(peak, m.rss)), () => {});
    }, 500);
    const end = Date.now() + STORM_MS;
    const started = performance.now();
    await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; Date.now() < end; i++) {
        const { host } = await send("POST", api, {
          name: `storm-${w}-${i}`,
          labels: { writer: String(w), round: String(i) },
        });
        await send("PATCH", `${api}/${host.id}`, { labels: { writer: String(w), env: "storm" } });
        await send("DELETE", `${api}/${host.id}?keep_history=false`);
        writes += 3;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    clearInterval(sampler);
    const after = await rss(hub.pid);
    return {
      rss_before_mb: before.rss,
      rss_peak_mb: Math.max(peak, after.hwm),
      rss_after_mb: after.rss,
      writes_per_s: writes / seconds,
    };
  } finally {
    hub.child.kill("SIGTERM");
    await hub.child.status;
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The bench figures: RSS after the storm (target < 300 MB), its peak, and the write rate. */
export async function writerStormBench(record: (name: string, value: number) => void) {
  const r = await writerStorm();
  record("hub_rss_mb_peak_writer_storm", r.rss_peak_mb);
  record("hub_rss_mb_after_writer_storm", r.rss_after_mb);
  record("writer_storm_writes_per_s", r.writes_per_s);
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--heap-mb");
  const env: Record<string, string> = i >= 0 ? { CAPSTAN_MAX_HEAP_MB: Deno.args[i + 1] } : {};
  console.log(await writerStorm(env));
}
