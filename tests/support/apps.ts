/**
 * The apps module wired for tests against real engines: the store on a test database, the
 * cluster over real agents' closed list of operations (tests/support/control_agent.ts), the
 * deployer and the apps service; two organizations with unique slugs; and the clean-up that
 * takes away what their apps left in an engine (services, then task containers, then networks,
 * tried again while Docker still holds them).
 */
import type { DbHandle } from "../../lib/db/mod.ts";
import { createDockerClient, type DockerClient } from "../../lib/docker/client.ts";
import { openTestDb } from "./db.ts";
import { cleanupSuite, TEST_IMAGE } from "../../lib/docker/testing.ts";
import { silentLogger } from "../../lib/log.ts";
import { systemClock } from "../../lib/util/clock.ts";
import { createAppStore } from "../../lib/apps/store.ts";
import { createCluster } from "../../lib/apps/cluster.ts";
import { createDeployer, type DeployProgress } from "../../lib/apps/deployer.ts";
import { type AppCaller, createApps } from "../../lib/apps/service.ts";
import { createReconciler } from "../../lib/apps/reconciler.ts";
import { announceMoves } from "../../lib/apps/events.ts";
import { clusterImageCleanup } from "../../lib/apps/image_cleanup.ts";
import type { AgentCaller } from "../../lib/apps/gateway.ts";
import type { AppSpecInput } from "../../lib/apps/spec.ts";
import { LABELS } from "../../lib/apps/swarm_spec.ts";
import { SYSTEM_CTX, testServices } from "./services.ts";
import { controlAgent } from "./control_agent.ts";
import { dockerFixture } from "./docker_api.ts";

export const OWNER: AppCaller = { ctx: SYSTEM_CTX, role: "owner" };

/** A service of an app spec as the API takes it. */
export type ServiceInput = AppSpecInput["services"][number];

/**
 * busybox httpd answering "<greeting> from <task host> (db: <what db said>)": it asks the app's
 * `db` service first (its in-app name), so it proves the dependency runs and resolves. Healthy
 * once its page exists; rolls start-first.
 */
export function webService(greeting: string, extra: Partial<ServiceInput> = {}): ServiceInput {
  return {
    name: "web",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: [
      [
        "mkdir -p /www",
        "i=0",
        "until d=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 db 80 | tail -1) && [ -n \"$d\" ]; do",
        "  i=$((i+1)); [ $i -gt 60 ] && echo 'db never answered' >&2 && exit 1; sleep 1",
        "done",
        'echo "$GREETING from $(hostname) (db: $d)" > /www/index.html',
        "exec httpd -f -p 80 -h /www",
      ].join("\n"),
    ],
    env: { GREETING: greeting },
    replicas: 2,
    depends_on: ["db"],
    // Failures while it waits for db do not count; the first success makes it healthy.
    health_check: {
      cmd: ["test", "-f", "/www/index.html"],
      interval_s: 1,
      retries: 1,
      start_period_s: 60,
    },
    update: { parallelism: 1, delay_s: 1, order: "start-first", monitor_s: 4 },
    restart: { condition: "any", delay_s: 1 },
    // httpd as PID 1 ignores SIGTERM: without this every stop waits Docker's 10 s.
    stop_grace_s: 1,
    ...extra,
  };
}

/** The dependency: an httpd that answers "ready". */
export function dbService(extra: Partial<ServiceInput> = {}): ServiceInput {
  return {
    name: "db",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: ["mkdir -p /www && echo ready > /www/index.html && exec httpd -f -p 80 -h /www"],
    replicas: 1,
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    restart: { condition: "any", delay_s: 1 },
    // httpd as PID 1 ignores SIGTERM: without this every stop waits Docker's 10 s.
    stop_grace_s: 1,
    ...extra,
  };
}

/** The apps module on `h`, two organizations, and a cluster made of the given engines. */
export async function appsHarness(
  h: DbHandle,
  manager: DockerClient,
  opts: {
    timeoutMs?: number;
    drainTimeoutMs?: number;
    keepImages?: number;
    env?: Record<string, string>;
  } = {},
) {
  const run = crypto.randomUUID().slice(0, 6);
  const services = testServices(h, undefined, opts.env);
  const orgA = await services.orgs.create(SYSTEM_CTX, { slug: `a-${run}`, name: "A" });
  const orgB = await services.orgs.create(SYSTEM_CTX, { slug: `b-${run}`, name: "B" });
  const agents = new Map<string, AgentCaller>();
  const online = new Set<string>();
  /** Adds a host of org A backed by an engine; its agent is "online" until `offline(id)`. */
  const addHost = async (name: string, docker: DockerClient) => {
    const { host } = await services.hosts.create(SYSTEM_CTX, orgA.id, { name });
    agents.set(host.id, controlAgent(docker));
    online.add(host.id);
    return host;
  };
  const managerHost = await addHost(`manager-${run}`, manager);
  const progress: DeployProgress[] = [];
  const store = createAppStore(h.db, systemClock);
  const cluster = createCluster({
    db: h.db,
    clock: systemClock,
    log: silentLogger,
    audit: services.audit,
    agent: (id) => {
      const a = agents.get(id);
      if (!a) throw new Error(`no agent for host ${id}`);
      return a;
    },
    isOnline: (id) => online.has(id),
    drainTimeoutMs: opts.drainTimeoutMs,
  });
  const slugs = new Map([[orgA.id, orgA.slug], [orgB.id, orgB.slug]]);
  const managerGateway = async () => {
    const m = await cluster.manager();
    return { gw: m.gw, info: m.info };
  };
  const orgSlug = (id: string) => Promise.resolve(slugs.get(id) ?? id.slice(-8));
  const deployer = createDeployer({
    store,
    clock: systemClock,
    log: silentLogger,
    cluster: managerGateway,
    orgSlug,
    progress: (_app, p) => void progress.push(p),
    pollMs: 300,
    timeoutMs: opts.timeoutMs,
  });
  const reconciler = createReconciler({
    store,
    cluster: managerGateway,
    orgSlug,
    clock: systemClock,
    log: silentLogger,
    // As the module wires it: moves reach the app's live timeline and the alerts' channels.
    moved: announceMoves(services),
  });
  const apps = createApps({
    store,
    cluster,
    deployer,
    audit: services.audit,
    clock: systemClock,
    log: silentLogger,
    images: clusterImageCleanup({
      store,
      log: silentLogger,
      keep: opts.keepImages ?? 5,
      cluster,
      agent: (id) => agents.get(id)!,
    }),
    removeVolume: async () => {},
  });
  return {
    run,
    services,
    orgA,
    orgB,
    managerHost,
    addHost,
    offline: (id: string) => online.delete(id),
    apps,
    store,
    cluster,
    deployer,
    reconciler,
    progress,
    /** The app's deployment `n` once every deployment of this process has ended. */
    async deployed(orgId: string, appId: string, n: number) {
      await apps.idle();
      return await store.deployment(await store.get(orgId, appId), String(n));
    },
  };
}

/**
 * Removes what apps of these organizations left in an engine: their services, then (once their
 * task containers are gone) their networks; then the suite's labelled leftovers. Tries again
 * while Docker still holds a network, for up to a minute.
 */
export async function cleanupApps(
  docker: DockerClient,
  orgIds: string[],
  suite: string,
): Promise<void> {
  const errors: unknown[] = [];
  const ours = (labels: Record<string, string> | null | undefined) =>
    orgIds.includes(labels?.[LABELS.org] ?? "");
  const info = await docker.info();
  const manager = info.Swarm?.LocalNodeState === "active" && info.Swarm.ControlAvailable;
  if (manager) {
    for (const s of await docker.listServices()) {
      if (ours(s.Spec.Labels)) {
        await docker.removeService(s.ID).catch((e) => e.status !== 404 && errors.push(e));
      }
    }
  }
  // Containers of the suite (clients on the org networks) go before the networks can.
  await cleanupSuite(docker, suite).catch((e) => errors.push(e));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const tasks = (await docker.listContainers({ all: true })).filter((c) => ours(c.Labels));
    const nets = manager ? (await docker.listNetworks()).filter((n) => ours(n.Labels)) : [];
    if (!tasks.length && !nets.length) return rethrow(errors);
    for (const n of nets) await docker.removeNetwork(n.Id).catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
  }
  errors.push(new Error(`apps of ${orgIds.join(", ")} left containers or networks behind`));
  rethrow(errors);
}

function rethrow(errors: unknown[]) {
  if (errors.length) throw new AggregateError(errors, "apps clean-up failed");
}

/**
 * Runs `fn` with the apps module on a SQLite test database and the local engine adopted as the
 * cluster's single node, then removes what the two organizations' apps left and closes both.
 */
export async function withSingleNodeApps(
  suite: string,
  fn: (env: Awaited<ReturnType<typeof appsHarness>>, docker: DockerClient) => Promise<void>,
): Promise<void> {
  const h = await openTestDb("sqlite");
  const docker = createDockerClient({ timeoutMs: 60_000 });
  const orgIds: string[] = [];
  try {
    const env = await appsHarness(h, docker);
    orgIds.push(env.orgA.id, env.orgB.id);
    // The CI engine already is a manager: the cluster adopts it.
    await env.cluster.create(OWNER.ctx, {
      hostId: env.managerHost.id,
      advertiseAddr: "127.0.0.1",
      adopt: true,
    });
    await fn(env, docker);
    await env.apps.idle();
  } finally {
    await cleanupApps(docker, orgIds, suite);
    docker.close();
    await h.close();
  }
}

/**
 * The HTTP fixture of the apps API tests: organization "acme" with a user per role and the local
 * engine's agent as its host (dockerFixture), a platform admin (`root`) who may create the
 * cluster, and a Docker client for clean-up.
 */
export async function appsApiFixture(h: DbHandle, suite: string) {
  const f = await dockerFixture(h, suite);
  const docker = createDockerClient({ timeoutMs: 60_000 });
  const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
  const org = (await f.t.services.orgs.bySlug("acme"))!;
  return { f, docker, root, org };
}
