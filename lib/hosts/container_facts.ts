/**
 * What the container detail page shows, reduced from Docker's inspect document. Environment
 * variables keep their names only: values often hold passwords and tokens, and the page is open
 * to viewers, so they never leave the hub at all.
 */
import type { ContainerInspect } from "../docker/types.ts";
import { cpuLimitCores } from "../docker/stats.ts";

/** A published (or only exposed) port. */
export interface PortFact {
  container: string;
  host: string | null;
  /** From the container's configuration: published only while it runs (it is stopped now). */
  configured?: true;
}

/** One mount. */
export interface MountFact {
  type: string;
  source: string;
  destination: string;
  readOnly: boolean;
}

/** One network attachment. */
export interface NetworkFact {
  name: string;
  ip: string;
  gateway: string;
}

/** The facts of one container, display-ready. */
export interface ContainerFacts {
  id: string;
  name: string;
  image: string;
  imageId: string;
  state: string;
  running: boolean;
  exitCode: number | null;
  health: string | null;
  oomKilled: boolean;
  restartCount: number;
  /** ms since the epoch; null when Docker reports the zero time. */
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  restartPolicy: string;
  command: string;
  workingDir: string;
  user: string;
  hostname: string;
  cpuLimitCores: number | null;
  memoryLimitBytes: number | null;
  ports: PortFact[];
  mounts: MountFact[];
  networks: NetworkFact[];
  labels: [string, string][];
  envNames: string[];
}

/** Engine time to ms; Docker's zero time ("0001-01-01…") means "never". */
function time(s: string | undefined): number | null {
  if (!s || s.startsWith("0001-01-01")) return null;
  const ms = Date.parse(s.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isFinite(ms) ? ms : null;
}

/** Joins argv for display, quoting arguments a reader would otherwise misread. */
export function displayCommand(argv: string[]): string {
  return argv.map((a) => (a === "" || /[\s"'\\$`|&;<>(){}]/.test(a) ? JSON.stringify(a) : a))
    .join(" ");
}

/**
 * The ports of a container: the engine's live bindings while it runs; once it stopped the engine
 * reports none, so the configured ones (HostConfig.PortBindings, Config.ExposedPorts) are shown,
 * marked as such, instead of "no ports".
 */
function portFacts(i: ContainerInspect): PortFact[] {
  const live = i.NetworkSettings?.Ports ?? {};
  const stopped = !i.State?.Running && Object.keys(live).length === 0;
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> = stopped
    ? {
      ...Object.fromEntries(Object.keys(i.Config?.ExposedPorts ?? {}).map((p) => [p, null])),
      ...i.HostConfig?.PortBindings,
    }
    : live;
  const mark = stopped ? { configured: true as const } : {};
  const ports: PortFact[] = [];
  for (const [container, list] of Object.entries(bindings)) {
    if (!list?.length) ports.push({ container, host: null, ...mark });
    for (const b of list ?? []) {
      // A binding without a host port gets a free one when the container starts.
      const free = !b.HostPort || b.HostPort === "0";
      const port = stopped && free ? "(any free port)" : b.HostPort ?? "";
      ports.push({ container, host: `${b.HostIp || "0.0.0.0"}:${port}`, ...mark });
    }
  }
  return ports.sort((a, b) => a.container.localeCompare(b.container, "en", { numeric: true }));
}

/** Reduces an inspect document to the page's facts. */
export function containerFacts(i: ContainerInspect): ContainerFacts {
  const hc = i.HostConfig ?? {};
  const rp = hc.RestartPolicy;
  const ports = portFacts(i);
  return {
    id: i.Id,
    name: i.Name.replace(/^\//, ""),
    image: i.Config?.Image ?? i.Image,
    imageId: i.Image,
    state: i.State?.Status ?? "unknown",
    running: Boolean(i.State?.Running),
    exitCode: i.State && !i.State.Running && time(i.State.FinishedAt) ? i.State.ExitCode : null,
    health: i.State?.Health?.Status ?? null,
    oomKilled: Boolean(i.State?.OOMKilled),
    restartCount: i.RestartCount ?? 0,
    createdAt: time(i.Created),
    startedAt: time(i.State?.StartedAt),
    finishedAt: i.State?.Running ? null : time(i.State?.FinishedAt),
    restartPolicy: !rp?.Name || rp.Name === "no"
      ? "no"
      : rp.Name === "on-failure" && rp.MaximumRetryCount
      ? `on-failure (at most ${rp.MaximumRetryCount} retries)`
      : rp.Name,
    command: displayCommand([i.Path, ...(i.Args ?? [])].filter((a) => a !== undefined)),
    workingDir: i.Config?.WorkingDir ?? "",
    user: i.Config?.User ?? "",
    hostname: i.Config?.Hostname ?? "",
    cpuLimitCores: cpuLimitCores(hc),
    memoryLimitBytes: hc.Memory && hc.Memory > 0 ? hc.Memory : null,
    ports,
    mounts: (i.Mounts ?? []).map((m) => ({
      type: m.Type,
      source: m.Type === "volume" && m.Name ? m.Name : m.Source,
      destination: m.Destination,
      readOnly: !m.RW,
    })),
    networks: Object.entries(i.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
      name,
      ip: n.IPAddress ? `${n.IPAddress}${n.IPPrefixLen ? `/${n.IPPrefixLen}` : ""}` : "",
      gateway: n.Gateway ?? "",
    })).sort((a, b) => a.name.localeCompare(b.name)),
    labels: Object.entries(i.Config?.Labels ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    // Names only, by design: see the module comment.
    envNames: (i.Config?.Env ?? []).map((e) => e.split("=", 1)[0]).filter(Boolean).sort(),
  };
}
