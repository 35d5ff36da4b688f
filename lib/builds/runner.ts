/**
 * Runs queued builds on their workers. Every hub process runs a dispatcher; it takes (by a
 * compare-and-set on the build's state) the queued builds whose worker's agent is connected to
 * it, at most `perWorker` at a time per worker, and streams `build.run` from that agent: log
 * lines go to the build's live topic and, every few seconds, compressed to the database (the
 * tail kept under the cap); the facts (commit, plan, image) go to the build's row. A built image
 * reaches the other nodes (registry or agent copies) and, when the build deploys, becomes a
 * deployment through the apps module — start-first and health-gated, so a version that fails
 * its health check is rolled back while the old one keeps serving.
 */
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import type { AgentCaller } from "../apps/gateway.ts";
import type { App, Deployment } from "../apps/store.ts";
import type { BuildChunk, BuildRunParams } from "../protocol/build.ts";
import type { Build, BuildSource, BuildStore } from "./store.ts";
import type { SourceCredentials } from "./service.ts";
import type { BuildNotice, BuildStage } from "./events.ts";
import { gzipText, LogTail } from "./log_buffer.ts";
import { classifyBuildLog, FAILURE_HINTS, type FailureClass } from "./failure.ts";
import type { BuildTopicEvent } from "./topics.ts";

/** How often a running build's log is saved and its heartbeat written. */
const FLUSH_MS = 3_000;
/** A running build whose process has been silent this long is called interrupted. */
export const STALE_MS = 60_000;
/** Idle dispatcher poll (a kick wakes it sooner). */
const POLL_MS = 2_000;
/** Longest wait for a build's deployment to end before the notice says "still deploying". */
const DEPLOY_WAIT_MS = 30 * 60_000;

export interface RunnerDeps {
  store: BuildStore;
  clock: Clock;
  log: Logger;
  /** The worker a build queued without one runs on (undefined: none is up yet). */
  pickWorker(): Promise<string | undefined>;
  /** This process's agent connection to a host, if the host's agent is connected here. */
  agent(hostId: string): AgentCaller | undefined;
  credentials(source: BuildSource): Promise<SourceCredentials>;
  app(orgId: string, appId: string): Promise<App | undefined>;
  /** Deploys a built image (apps.deployBuild). */
  deploy(app: App, build: Build, image: string): Promise<Deployment>;
  /** A deployment as it stands now. */
  deployment(app: App, id: string): Promise<Deployment | undefined>;
  /**
   * Makes a built image available to every node that may run it; answers the reference the
   * deployment uses (a registry's, or the local tag when the image was copied).
   */
  distribute(
    build: Build,
    hostId: string,
    localTag: string,
    log: (line: string) => void,
  ): Promise<string>;
  publish(build: Build, e: BuildTopicEvent): void;
  notify(n: BuildNotice): void;
  /** What build.run needs besides the source (limits, base images, the Nix cache). */
  params: Pick<BuildRunParams, "base_images" | "nix_cache_url" | "limits">;
  logMaxBytes: number;
  perWorker: number;
}

interface Running {
  abort: AbortController;
  tail: LogTail;
}

/**
 * The image tag a build makes on its worker: by ids (app names repeat across organizations), so
 * an organization's built images are found by the reference `capstan-builds/<org id>/*\/*`.
 */
export function buildTag(b: Pick<Build, "org_id" | "app_id" | "service" | "number">): string {
  return `capstan-builds/${b.org_id}/${b.app_id}/${b.service}:b${b.number}`;
}

export function createBuildRunner(deps: RunnerDeps) {
  const { store, clock, log } = deps;
  const runnerId = crypto.randomUUID();
  const running = new Map<string, Running>();
  const tasks = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;
  let dispatching: Promise<void> | undefined;
  let again = false;

  const notice = (
    app: App,
    b: Build,
    stage: BuildStage,
    detail: string,
    more: Partial<BuildNotice> = {},
  ) =>
    deps.notify({
      org_id: app.org_id,
      app: { id: app.id, name: app.name },
      build: {
        id: b.id,
        number: b.number,
        service: b.service,
        branch: b.branch,
        commit: b.commit_sha,
      },
      stage,
      detail,
      ...more,
    });

  async function dispatch(): Promise<void> {
    const queued = await store.queued();
    const busy = new Map<string, number>();
    for (const b of queued) {
      if (stopped) return;
      if (b.cancel_requested) continue;
      // Queued when no worker was up (no cluster yet, every agent away): pick one now.
      const hostId = b.host_id ?? await deps.pickWorker().catch(() => undefined);
      if (!hostId) continue;
      if (!b.host_id) await store.update(b.id, { host_id: hostId });
      const agent = deps.agent(hostId);
      if (!agent) continue;
      const n = busy.get(hostId) ?? await store.runningOn(hostId);
      if (n >= deps.perWorker) continue;
      if (!(await store.claim(b.id, runnerId, hostId))) continue;
      busy.set(hostId, n + 1);
      const claimed = (await store.get(b.id))!;
      const t = run(claimed, agent).catch((err) =>
        log.error("builds: a build ended with an error", { build: b.id, error: String(err) })
      ).finally(() => {
        tasks.delete(t);
        kick();
      });
      tasks.add(t);
    }
  }

  function kick() {
    if (stopped) return;
    if (dispatching) {
      again = true;
      return;
    }
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    dispatching = dispatch().catch((err) =>
      log.warn("builds: dispatch failed", { error: String(err) })
    ).finally(() => {
      dispatching = undefined;
      if (stopped) return;
      if (again) {
        again = false;
        kick();
      } else timer = setTimeout(kick, POLL_MS);
    });
  }

  async function run(b: Build, agent: AgentCaller): Promise<void> {
    const app = await deps.app(b.org_id, b.app_id);
    const source = app ? await store.source(app.id, b.service) : undefined;
    const tail = new LogTail(deps.logMaxBytes);
    const abort = new AbortController();
    running.set(b.id, { abort, tail });
    let dirty = false;
    const line = (text: string) => {
      tail.push(text);
      dirty = true;
    };
    const flush = async () => {
      if (!dirty) return void await store.update(b.id, { heartbeat_at: clock.now() });
      dirty = false;
      await store.saveLog({
        build_id: b.id,
        gz: await gzipText(tail.text()),
        raw_bytes: tail.bytes,
        dropped_bytes: tail.dropped,
        updated_at: clock.now(),
      });
      await store.update(b.id, { heartbeat_at: clock.now() });
    };
    const end = async (
      state: "succeeded" | "failed" | "cancelled",
      patch: Partial<Build> = {},
    ) => {
      await flush().catch(() => {});
      await store.finish(b.id, state, patch);
      running.delete(b.id);
      deps.publish(b, { kind: "state", build_id: b.id, state, ...patch });
    };
    try {
      if (!app || !source) {
        line("The app or its Git source was removed before the build started.");
        return await end("failed", { failure: "clone_failed", error: "The source is gone" });
      }
      notice(app, b, "build_started", `Build #${b.number} of ${b.service} started on ${b.branch}`);
      deps.publish(b, { kind: "state", build_id: b.id, state: "running" });
      const creds = await deps.credentials(source);
      const tag = buildTag(b);
      const params: BuildRunParams = {
        build_id: b.id,
        source: {
          url: source.repo_url,
          branch: source.branch,
          ...(b.commit_sha ? { commit: b.commit_sha } : {}),
          subdir: source.subdir,
          build_file: source.build_file,
          ...(source.auth === "token" && creds.token
            ? { auth: { kind: "token" as const, username: creds.username, token: creds.token } }
            : source.auth === "ssh" && creds.ssh_private_key
            ? {
              auth: {
                kind: "ssh" as const,
                private_key: creds.ssh_private_key,
                ...(source.known_host ? { known_hosts: source.known_host } : {}),
              },
            }
            : {}),
        },
        builder: source.builder,
        build_args: JSON.parse(source.build_args),
        ...(source.target ? { target: source.target } : {}),
        tag,
        // No labels: the classic builder commits a layer per label (a LABEL step each, about
        // 0.3 s apiece); the tag names the organization, app, service and build instead.
        labels: {},
        ...deps.params,
      };
      const stream = agent.stream("build.run", params, 4096);
      // Cancel asked on any replica reaches the row; this process looks once a second.
      const watch = setInterval(() => {
        void store.get(b.id).then((now) => {
          if (now?.cancel_requested) abort.abort();
        }).catch(() => {});
      }, 1000);
      const flusher = setInterval(() => void flush().catch(() => {}), FLUSH_MS);
      abort.signal.addEventListener("abort", () => stream.cancel(), { once: true });
      let done: Extract<BuildChunk, { kind: "done" }> | undefined;
      let failed: Extract<BuildChunk, { kind: "failed" }> | undefined;
      try {
        for await (const raw of stream) {
          const c = raw as BuildChunk;
          if (c.kind === "log") {
            for (const l of c.lines) line(l);
            deps.publish(b, { kind: "log", build_id: b.id, lines: c.lines });
          } else if (c.kind === "source") {
            b.commit_sha = c.commit;
            await store.update(b.id, {
              commit_sha: c.commit,
              commit_author: c.author,
              commit_message: c.message,
            });
            if (c.known_host) {
              await store.pinHostKey(source.id, c.known_host.line, c.known_host.fingerprint);
            }
            deps.publish(b, {
              kind: "source",
              build_id: b.id,
              commit: c.commit,
              author: c.author,
              message: c.message,
            });
          } else if (c.kind === "plan") {
            await store.update(b.id, {
              builder: c.builder,
              plan: c.plan === undefined
                ? null
                : JSON.stringify({ summary: c.summary, plan: c.plan }),
              dockerfile: c.dockerfile ?? null,
            });
          } else if (c.kind === "done") done = c;
          else if (c.kind === "failed") failed = c;
        }
      } catch (err) {
        if (!abort.signal.aborted) {
          const message = err instanceof Error ? err.message : String(err);
          line(`The worker's agent stopped the build: ${message}`);
          failed = { kind: "failed", failure: "build_failed", message };
        }
      } finally {
        clearInterval(watch);
        clearInterval(flusher);
      }
      if (abort.signal.aborted && !done) {
        if (stopped) {
          line("The hub stopped during the build.");
          await end("failed", { failure: "build_failed", error: "The hub stopped; retry it" });
          return;
        }
        line("Build cancelled.");
        await end("cancelled", { failure: "cancelled", error: "Cancelled" });
        return;
      }
      if (!done) {
        const failure =
          (failed?.failure ?? classifyBuildLog(tail.last(200).join("\n"))) as FailureClass;
        const message = failed?.message ?? "The build ended without an image";
        await end("failed", { failure, error: message.slice(0, 2000) });
        notice(app, b, "build_failed", `${FAILURE_HINTS[failure] ?? message}`, { failure });
        return;
      }
      let image = tag;
      try {
        image = await deps.distribute(b, b.host_id!, tag, line);
      } catch (err) {
        const message = `The image could not be made available to the nodes: ${
          err instanceof Error ? err.message : String(err)
        }`;
        line(message);
        await end("failed", { failure: "build_failed", error: message, image_id: done.image_id });
        notice(app, b, "build_failed", message, { failure: "build_failed" });
        return;
      }
      await end("succeeded", { image, image_id: done.image_id, size_bytes: done.size_bytes });
      notice(app, b, "build_succeeded", `Build #${b.number} of ${b.service} made ${image}`);
      if (b.deploy) await deployBuilt(app, (await store.get(b.id))!, image);
    } finally {
      running.delete(b.id);
    }
  }

  /** Deploys a built image and tells how the deployment ended (succeeded, rolled back, failed). */
  async function deployBuilt(app: App, b: Build, image: string): Promise<void> {
    let d: Deployment | undefined;
    // Pushes in quick succession: a build that ends while the app's last deployment is still
    // rolling waits for it (and is dropped if a newer build of the service came meanwhile).
    const until = clock.now() + DEPLOY_WAIT_MS;
    while (!d) {
      try {
        d = await deps.deploy((await deps.app(app.org_id, app.id)) ?? app, b, image);
      } catch (err) {
        const busy = (err as { code?: string }).code === "deploy_in_progress";
        if (busy && !stopped && clock.now() < until) {
          const newer = (await store.list(app.id, { limit: 20 })).find((x) =>
            x.number > b.number && x.service === b.service && x.deploy === 1 &&
            x.state !== "failed" && x.state !== "cancelled"
          );
          if (!newer) {
            await new Promise((r) => setTimeout(r, 2000));
            continue;
          }
          await store.update(b.id, { error: `Not deployed: build #${newer.number} is newer` });
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        await store.update(b.id, { error: `Not deployed: ${message}`.slice(0, 2000) });
        notice(app, b, "deploy_failed", `Build #${b.number} was not deployed: ${message}`);
        return;
      }
    }
    await store.update(b.id, { deployment_id: d.id });
    deps.publish(b, { kind: "deployment", build_id: b.id, deployment_id: d.id, number: d.number });
    notice(app, b, "deploy_started", `Deployment #${d.number} of build #${b.number} started`, {
      deployment_number: d.number,
    });
    const deadline = clock.now() + DEPLOY_WAIT_MS;
    let now: Deployment | undefined = d;
    while (!stopped && clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      now = await deps.deployment(app, d.id).catch(() => now);
      if (now && now.status !== "pending" && now.status !== "deploying") break;
    }
    if (!now || now.status === "pending" || now.status === "deploying") return;
    const why = now.reason ? `: ${now.reason}` : "";
    if (now.status === "running" || now.status === "superseded") {
      notice(
        app,
        b,
        "deploy_succeeded",
        `Deployment #${d.number} of build #${b.number} is running`,
        {
          deployment_number: d.number,
        },
      );
    } else if (now.status === "rolled_back") {
      notice(
        app,
        b,
        "deploy_rolled_back",
        `Deployment #${d.number} of build #${b.number} was rolled back${why}; the previous version keeps serving`,
        { deployment_number: d.number },
      );
    } else {
      notice(
        app,
        b,
        "deploy_failed",
        `Deployment #${d.number} of build #${b.number} failed${why}`,
        {
          deployment_number: d.number,
        },
      );
    }
  }

  return {
    id: runnerId,
    kick,
    /** Stops a build running in this process now (others see the row's cancel flag). */
    cancel(buildId: string) {
      running.get(buildId)?.abort.abort();
      kick();
    },
    /** The log of a build running in this process. */
    liveLog(buildId: string): { text: string; dropped_bytes: number } | undefined {
      const r = running.get(buildId);
      return r ? { text: r.tail.text(), dropped_bytes: r.tail.dropped } : undefined;
    },
    /** Marks builds whose process went silent as failed (a hub that stopped mid-build). */
    async failStale(): Promise<number> {
      const stale = await store.stale(clock.now() - STALE_MS);
      let n = 0;
      for (const b of stale) {
        if (running.has(b.id)) continue;
        if (
          await store.finish(b.id, "failed", {
            failure: "build_failed",
            error: "The hub running this build stopped; retry it",
          })
        ) n++;
      }
      return n;
    },
    start() {
      stopped = false;
      kick();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const r of running.values()) r.abort.abort();
      await Promise.allSettled([...tasks]);
      await dispatching;
    },
  };
}

export type BuildRunner = ReturnType<typeof createBuildRunner>;
