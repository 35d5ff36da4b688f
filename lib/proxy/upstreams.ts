/**
 * Where a route's requests go now: the addresses of its target, asked afresh on every render, so
 * routes follow an app across redeploys, scaling, rollbacks and node moves without anyone touching
 * them. An app service is reached where its running tasks publish the route's container port: a
 * host-mode port on each task's node, or an ingress port on the manager when the cluster has a
 * routing mesh. Nothing published (or nothing running) is no upstream, and says why.
 */
import type { RouteTarget } from "./spec.ts";

/** What resolving a target found. */
export interface Resolved {
  upstreams: string[];
  /** Why there is none (shown on the route). */
  reason?: string;
  upstreamTls?: boolean;
  upstreamHost?: string;
}

/** A task of an app service as the apps module reports it. */
export interface TaskEndpoint {
  state: string;
  desired: string;
  node_addr: string | null;
  ports: { target: number; published: number; protocol: string }[];
}

/** What the resolver reads: the apps' services and tasks (by org and app name). */
export interface UpstreamSources {
  /** The services of an org's app with their tasks, or null when there is no such app. */
  appServices(orgId: string, app: string): Promise<
    | {
      name: string;
      /** Ingress-mode published ports (answer on every node when the cluster has a mesh). */
      ingress: { target: number; published: number; protocol: string }[];
      tasks: TaskEndpoint[];
    }[]
    | null
  >;
  /** The address to reach ingress-mode ports at (the manager's), or null. */
  ingressAddr(): Promise<string | null>;
}

const dial = (addr: string, port: number) =>
  addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;

/** Resolves one route's target for an organization. */
export async function resolveTarget(
  orgId: string,
  target: RouteTarget,
  sources: UpstreamSources,
): Promise<Resolved> {
  if (target.kind === "url") {
    const u = new URL(target.url);
    const tls = u.protocol === "https:";
    const port = u.port || (tls ? "443" : "80");
    const host = u.hostname.replace(/^\[|\]$/g, "");
    return { upstreams: [dial(host, Number(port))], upstreamTls: tls, upstreamHost: u.host };
  }
  if (target.kind === "container") {
    return { upstreams: [], reason: "routes to single containers are not available yet" };
  }
  const services = await sources.appServices(orgId, target.app);
  if (!services) return { upstreams: [], reason: `there is no app ${target.app}` };
  const service = services.find((s) => s.name === target.service);
  if (!service) {
    return { upstreams: [], reason: `app ${target.app} has no service ${target.service}` };
  }
  const out = new Set<string>();
  for (const t of service.tasks) {
    if (t.state !== "running" || t.desired !== "running" || !t.node_addr) continue;
    // One port per task: the engine may bind a host-mode port twice (IPv4 and IPv6) with
    // different numbers, and the IPv6 one dialled on the node's IPv4 address can be another
    // app's (seen: a site's /admin answered by another app). The first binding is IPv4's.
    const p = t.ports.find((p) => p.target === target.port && p.published && p.protocol !== "udp");
    if (p) out.add(dial(t.node_addr, p.published));
  }
  const mesh = service.ingress.find((p) =>
    p.target === target.port && p.published && p.protocol !== "udp"
  );
  if (mesh) {
    const addr = await sources.ingressAddr();
    if (addr) out.add(dial(addr, mesh.published));
  }
  if (out.size) return { upstreams: [...out].sort() };
  const publishes = service.ingress.some((p) => p.target === target.port) ||
    service.tasks.some((t) => t.ports.some((p) => p.target === target.port));
  return {
    upstreams: [],
    reason: publishes
      ? `no task of ${target.app}/${target.service} is running`
      : `${target.app}/${target.service} publishes no port for container port ${target.port}`,
  };
}
