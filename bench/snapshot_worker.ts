/**
 * Runs one `snapshot.create` of the agent (agent/snapshots/restic.ts) in a process of its own, so
 * the snapshot bench can read this process's memory apart from the bench's: what the agent spends
 * on orchestrating a backup (restic's JSON lines read, progress throttled, the summary kept), with
 * restic as its child. Only the snapshot modules and the engine client are loaded.
 *
 * In: the op's params as one JSON line on stdin (the repository password is in them, so not argv).
 * Out, one JSON line each on stdout: every chunk the op emits, then
 * `{ "kind": "measured", "op_s": …, "vm_hwm_kb": … }` — the op's wall time and this process's
 * peak resident memory (VmHWM of /proc/self/status) after it.
 *
 *   echo '{…}' | deno run -A bench/snapshot_worker.ts
 */
import { createDockerClient } from "../lib/docker/client.ts";
import { snapshotOps } from "../agent/snapshots/restic.ts";

const params = JSON.parse(
  await new Response(Deno.stdin.readable).text(),
) as Record<string, unknown>;
const docker = createDockerClient();
const ops = snapshotOps(docker, { tmpRoot: Deno.env.get("SNAPSHOT_WORKER_TMP") || undefined });
const write = (v: unknown) => console.log(JSON.stringify(v));
const t = performance.now();
await ops.create(params, write, new AbortController().signal);
const opS = (performance.now() - t) / 1000;
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(await Deno.readTextFile("/proc/self/status"));
write({ kind: "measured", op_s: opS, vm_hwm_kb: hwm ? Number(hwm[1]) : NaN });
docker.close();
