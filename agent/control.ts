import type { HealthSync } from "../lib/protocol/health.ts";
import type { DockerClient } from "../lib/docker/client.ts";
import { DockerError, DockerInputError } from "../lib/docker/client.ts";
import type { ContainerSummary } from "../lib/docker/types.ts";
import {
  CALL_OPS,
  type CallOp,
  type ContainerCreateSpec,
  STREAM_OPS,
  type StreamOp,
} from "../lib/protocol/ops.ts";
import type { ContainerState, WireError } from "../lib/protocol/messages.ts";
import * as z from "zod";
import { type CgroupLayout, detectLayout, readSnapshots } from "./collectors/cgroup_stats.ts";
import { serviceLogs, swarmCalls } from "./swarm.ts";
import { imageOps } from "./images.ts";
import { type ResticOptions, snapshotOps } from "./snapshots/restic.ts";

/** An operation failed in a way the hub should show the user (status like HTTP). */
export class OpError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
  }
}

/** Maps anything thrown while running an operation to the wire error shape. */
export function toWireError(err: unknown): WireError {
  if (err instanceof OpError) return err.wire;
  if (err instanceof DockerInputError) {
    return { status: 400, code: "validation", message: err.message, field: err.field };
  }
  if (err instanceof z.ZodError) {
    const issue = err.issues[0];
    return {
      status: 400,
      code: "validation",
      message: `Invalid ${issue.path.join(".") || "params"}: ${issue.message}`,
      field: issue.path.join(".") || undefined,
    };
  }
  if (err instanceof DockerError) {
    const status = [400, 403, 404, 409].includes(err.status) ? err.status : 502;
    const code =
      { 400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict" }[status] ??
        "engine_error";
    return { status, code, message: err.message };
  }
  if (err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return { status: 504, code: "timeout", message: "The Docker engine did not answer in time" };
  }
  return {
    status: 500,
    code: "agent_error",
    message: err instanceof Error ? err.message : String(err),
  };
}

/** The hub's view of a container from an Engine list entry. */
export function containerState(c: ContainerSummary): ContainerState {
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? "").replace(/^\//, ""),
    image: c.Image,
    image_id: c.ImageID,
    command: (c.Command ?? "").slice(0, 4096),
    state: c.State,
    status: c.Status,
    created: c.Created,
    labels: c.Labels ?? {},
    ports: (c.Ports ?? []).map((p) => ({
      private_port: p.PrivatePort,
      public_port: p.PublicPort,
      type: p.Type,
      ip: p.IP,
    })),
  };
}

function toEngineSpec(s: ContainerCreateSpec) {
  return {
    image: s.image,
    cmd: s.cmd,
    env: s.env,
    ports: s.ports?.map((p) => ({
      containerPort: p.container_port,
      protocol: p.protocol,
      hostPort: p.host_port,
      hostIp: p.host_ip,
    })),
    volumes: s.volumes?.map((v) => ({ name: v.name, target: v.target, readOnly: v.read_only })),
    restartPolicy: { name: s.restart_policy },
    labels: s.labels,
    nanoCpus: s.cpus ? Math.round(s.cpus * 1e9) : undefined,
    memoryBytes: s.memory_bytes,
    privileged: s.privileged,
    networkMode: s.network_mode,
    pidMode: s.pid_mode,
    devices: s.devices?.map((d) => ({ pathOnHost: d })),
    capAdd: s.cap_add,
    binds: s.binds,
  };
}

/** A container that uses a network or volume, as network and volume lists report it. */
interface ResourceUser {
  id: string;
  name: string;
  state: string;
}

/** Groups containers by the resources (network or volume names) each one uses. */
function usersBy(
  containers: ContainerSummary[],
  keys: (c: ContainerSummary) => string[],
): Map<string, ResourceUser[]> {
  const out = new Map<string, ResourceUser[]>();
  for (const c of containers) {
    const user = { id: c.Id, name: (c.Names?.[0] ?? "").replace(/^\//, ""), state: c.State };
    for (const k of new Set(keys(c))) {
      const list = out.get(k) ?? [];
      list.push(user);
      out.set(k, list);
    }
  }
  return out;
}

const ENGINE_TIMEOUT_MS = 30_000;

/**
 * Runs operations of the closed list against the local engine. Parameters are validated here
 * again: the agent trusts nothing it is sent, not even the hub.
 */
export function createControl(
  docker: DockerClient,
  options: {
    cgroupRoot?: string;
    /** Takes the hub's set of health checks (agent/health); absent, `health.sync` answers 501. */
    health?: { sync(p: HealthSync): Promise<unknown> };
    /** Where builds clone their sources (a private temporary directory each); default the system's. */
    buildDir?: string;
    /** Where restic runs (private folders, cache, binary) for volume snapshots. */
    restic?: ResticOptions;
  } = {},
) {
  const opts = () => ({ signal: AbortSignal.timeout(ENGINE_TIMEOUT_MS) });
  let layout: Promise<CgroupLayout> | undefined;
  // Init pids of running containers, for their network namespace; a container keeps its pid while it runs.
  const pids = new Map<string, number>();
  const images = imageOps(docker);
  const snapshots = snapshotOps(docker, options.restic);

  async function statsSnapshot(ids?: string[]) {
    const running = await docker.listContainers({ filters: { status: ["running"] }, ...opts() });
    const wanted = ids
      ? running.filter((c) => ids.some((i) => c.Id.startsWith(i) || c.Names.includes(`/${i}`)))
      : running;
    const live = new Set(running.map((c) => c.Id));
    for (const id of pids.keys()) if (!live.has(id)) pids.delete(id);
    await Promise.all(
      wanted.filter((c) => !pids.has(c.Id)).map(async (c) => {
        const pid = (await docker.inspectContainer(c.Id, opts()).catch(() => undefined))?.State
          ?.Pid;
        if (pid) pids.set(c.Id, pid);
      }),
    );
    layout ??= detectLayout(options.cgroupRoot, wanted[0]?.Id);
    return await readSnapshots(
      await layout,
      wanted.map((c) => ({ id: c.Id, pid: pids.get(c.Id) })),
    );
  }

  const calls: { [O in CallOp]: (p: z.output<(typeof CALL_OPS)[O]>) => Promise<unknown> } = {
    "engine.info": async () => ({
      info: await docker.info(opts()),
      version: await docker.version(opts()),
    }),
    "containers.list": async (p) =>
      (await docker.listContainers({ all: p.all, ...opts() })).map(containerState),
    "container.inspect": (p) => docker.inspectContainer(p.id, opts()),
    "container.create": async (p) => {
      const created = await docker.createContainer(p.spec.name ?? "", toEngineSpec(p.spec), opts());
      if (p.start) await docker.startContainer(created.id, opts());
      return created;
    },
    "container.start": (p) => docker.startContainer(p.id, opts()),
    "container.stop": (p) =>
      docker.stopContainer(p.id, {
        t: p.timeout_s,
        signal: AbortSignal.timeout(ENGINE_TIMEOUT_MS + (p.timeout_s ?? 10) * 1000),
      }),
    "container.restart": (p) =>
      docker.restartContainer(p.id, {
        t: p.timeout_s,
        signal: AbortSignal.timeout(ENGINE_TIMEOUT_MS + (p.timeout_s ?? 10) * 1000),
      }),
    "container.kill": (p) => docker.killContainer(p.id, p.signal, opts()),
    "container.remove": (p) =>
      docker.removeContainer(p.id, { force: p.force, v: p.volumes, ...opts() }),
    "container.stats": (p) => docker.containerStatsOnce(p.id, opts()),
    "containers.stats_snapshot": (p) => statsSnapshot(p.ids),
    "images.list": () => docker.listImages(opts()),
    "image.remove": (p) => docker.removeImage(p.ref, { force: p.force, ...opts() }),
    "images.prune": () => docker.pruneImages({ dangling: true, ...opts() }),
    "networks.list": async () => {
      // The engine's list leaves `Containers` empty (API ≥ 1.28); one container list fills it in
      // for every network at once instead of one inspect per network.
      const [networks, containers] = await Promise.all([
        docker.listNetworks(opts()),
        docker.listContainers({ all: true, ...opts() }),
      ]);
      const users = usersBy(containers, (c) => Object.keys(c.NetworkSettings?.Networks ?? {}));
      return networks.map((n) => ({ ...n, UsedBy: users.get(n.Name) ?? [] }));
    },
    "network.create": (p) =>
      docker.createNetwork({
        name: p.name,
        driver: p.driver,
        subnet: p.subnet,
        gateway: p.gateway,
        labels: p.labels,
        options: p.parent ? { parent: p.parent } : undefined,
      }, opts()),
    "network.remove": (p) => docker.removeNetwork(p.id, opts()),
    "volumes.list": async (p) => {
      // Sizes come from /system/df, which walks every volume on disk: only when asked for.
      const [volumes, containers] = await Promise.all([
        p.sizes
          ? docker.systemDf(opts()).then((df) => df.Volumes ?? [])
          : docker.listVolumes(opts()),
        docker.listContainers({ all: true, ...opts() }),
      ]);
      const users = usersBy(
        containers,
        (c) => (c.Mounts ?? []).filter((m) => m.Type === "volume" && m.Name).map((m) => m.Name!),
      );
      return { volumes: volumes.map((v) => ({ ...v, UsedBy: users.get(v.Name) ?? [] })) };
    },
    "volume.create": (p) =>
      docker.createVolume({ name: p.name, driver: p.driver, labels: p.labels }, opts()),
    "health.sync": (p) => {
      if (!options.health) {
        throw new OpError({
          status: 501,
          code: "not_supported",
          message: "this agent does not run health checks",
        });
      }
      return options.health.sync(p);
    },
    "volume.remove": (p) => docker.removeVolume(p.name, { force: p.force, ...opts() }),
    ...swarmCalls(docker, opts),
    ...images.calls,
    ...snapshots.calls,
  };

  return {
    /** The version of this host's restic ("0.14.0"), null without one (for the hello). */
    resticVersion: (): Promise<string | null> => snapshots.version(),

    /** Runs a one-shot operation; throws for names outside the list or invalid parameters. */
    async call(op: string, params: unknown): Promise<unknown> {
      if (!Object.hasOwn(CALL_OPS, op)) {
        throw new OpError({
          status: 400,
          code: "unknown_op",
          message: `Unknown operation "${op}"`,
        });
      }
      const schema = CALL_OPS[op as CallOp];
      const parsed = schema.parse(params ?? {});
      // deno-lint-ignore no-explicit-any
      return await (calls[op as CallOp] as (p: any) => Promise<unknown>)(parsed);
    },

    /**
     * Runs a streaming operation, handing each chunk to `emit` until the stream ends or `signal`
     * aborts. Log lines are batched so a chatty container costs few frames.
     */
    async stream(
      op: string,
      params: unknown,
      emit: (data: unknown) => void,
      signal: AbortSignal,
    ): Promise<void> {
      if (!Object.hasOwn(STREAM_OPS, op)) {
        throw new OpError({
          status: 400,
          code: "unknown_op",
          message: `Unknown operation "${op}"`,
        });
      }
      const name = op as StreamOp;
      if (name === "image.pull") {
        const p = STREAM_OPS[name].parse(params ?? {});
        await docker.pullImage(p.ref, (progress) => emit(progress), { signal });
        return;
      }
      if (name === "container.stats_stream") {
        const p = STREAM_OPS[name].parse(params ?? {});
        const s = await docker.containerStats(p.id, { stream: true, signal });
        signal.addEventListener("abort", () => void s.close(), { once: true });
        for await (const sample of s) emit(sample);
        return;
      }
      if (name === "image.push") return await images.push(params, emit, signal);
      if (name === "build.run") {
        // Loaded on the first build, not at start: most hosts never build, and the builders (git,
        // the context tar, Dockerfile plans, nix) would otherwise sit in every agent's memory.
        const { runBuild } = await import("./build/run.ts");
        await runBuild(docker, params, emit, signal, { tmpRoot: options.buildDir });
        return;
      }
      if (name === "snapshot.create") return await snapshots.create(params, emit, signal);
      if (name === "snapshot.restore") return await snapshots.restore(params, emit, signal);
      if (name === "service.logs") {
        await serviceLogs(docker, params, (lines) => emitBatched(lines, emit), signal);
        return;
      }
      const p = STREAM_OPS["container.logs"].parse(params ?? {});
      const s = await docker.containerLogs(p.id, {
        follow: p.follow,
        tail: p.tail,
        timestamps: p.timestamps,
        signal,
      });
      signal.addEventListener("abort", () => void s.close(), { once: true });
      await emitBatched(s, emit);
    },
  };
}

/** Hands log lines on in batches (at most 200, or what 50 ms brought) so a chatty source costs few frames. */
async function emitBatched(
  lines: AsyncIterable<unknown>,
  emit: (data: unknown) => void,
): Promise<void> {
  let batch: unknown[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (batch.length) emit(batch);
    batch = [];
  };
  try {
    for await (const line of lines) {
      batch.push(line);
      if (batch.length >= 200) flush();
      else timer ??= setTimeout(flush, 50);
    }
  } finally {
    flush();
  }
}

export type Control = ReturnType<typeof createControl>;
