/**
 * The topology service: builds a scope's graph on request and keeps it live. Each scope read
 * through the API is "watched" (for `watchMs` after its last read, at most `maxScopes` of them,
 * the least recently read going first): the graph last published for it is kept as its baseline.
 * A domain event that may change a scope schedules one rebuild (trailing `debounceMs`, one at a time
 * per scope, events during one sharing the next); the rebuild is diffed against the baseline and
 * only the differences go out on the scope's topic, numbered on from the baseline's version.
 *
 * The realtime layer cannot say who subscribed (subscribers may be on another replica), so a read
 * through the API stands for "someone looks": clients subscribe, then read (TOPOLOGY.md). Scopes
 * nobody read cost nothing; watched ones cost one bounded build per burst of events.
 *
 * Versions start at the clock's milliseconds when a baseline is made, so a baseline made again
 * (after eviction or a restart) is numbered past any version a client still holds: the client
 * sees a gap and reloads instead of ignoring every patch.
 */
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { TopologyGraph, TopologyPatch } from "./graph.ts";
import { buildTopology, MAX_NODES } from "./build.ts";
import { diffGraphs, numberPatches } from "./diff.ts";
import { type FactSources, readFacts } from "./facts.ts";
import { scopeKey, type TopologyScope } from "./topics.ts";

/** Most patches one rebuild publishes; past it one `reload` goes out instead. */
export const MAX_PATCHES = 200;

export interface TopologyDeps {
  sources: FactSources;
  clock: Clock;
  log: Logger;
  /** Publishes one patch on the scope's topic (never throws; realtime is a hint). */
  publish(scope: TopologyScope, patch: TopologyPatch): Promise<void>;
  maxNodes?: number;
  /**
   * Default 10 ms: the events of one burst (an agent's message, a deployment's writes) become one
   * rebuild without delaying a lone change much: the map's 200 ms budget from a change to the
   * repaint (issue 22) goes to the rebuild and the browser. Rebuilds of a scope never overlap, and
   * events arriving while one runs share the one queued after it, so a storm of events costs at
   * most one build after another per scope.
   */
  debounceMs?: number;
  /** Default 24 h. */
  watchMs?: number;
  /** Default 256. */
  maxScopes?: number;
}

interface Watched {
  scope: TopologyScope;
  baseline: TopologyGraph;
  readAt: number;
  timer?: ReturnType<typeof setTimeout>;
  /** A rebuild is queued behind the one in progress and has not started: new events ride on it. */
  queued?: boolean;
  /** The rebuild or read in progress (one at a time per scope). */
  chain: Promise<unknown>;
}

/** Creates the service; see the module comment. */
export function createTopology(deps: TopologyDeps) {
  const maxNodes = deps.maxNodes ?? MAX_NODES;
  const debounceMs = deps.debounceMs ?? 10;
  const watchMs = deps.watchMs ?? 24 * 3_600_000;
  const maxScopes = deps.maxScopes ?? 256;
  const watched = new Map<string, Watched>();
  const pending = new Set<Promise<unknown>>();
  let closed = false;

  async function build(scope: TopologyScope, version: number): Promise<TopologyGraph> {
    const facts = await readFacts(deps.sources, scope, maxNodes);
    return buildTopology(facts, { at: deps.clock.now(), version, maxNodes });
  }

  /** Diffs a fresh build against the baseline, publishes the patches and moves the baseline on. */
  async function advance(w: Watched): Promise<TopologyGraph> {
    const next = await build(w.scope, w.baseline.version);
    const bodies = diffGraphs(w.baseline, next);
    if (!bodies.length) {
      w.baseline = { ...next, version: w.baseline.version };
      return w.baseline;
    }
    let patches: TopologyPatch[];
    if (bodies.length > MAX_PATCHES) {
      patches = [{ op: "reload", version: w.baseline.version + 1 }];
    } else patches = numberPatches(bodies, w.baseline.version);
    const version = patches[patches.length - 1].version;
    w.baseline = { ...next, version };
    // In order: a client applies them one after the other.
    for (const p of patches) await deps.publish(w.scope, p);
    return w.baseline;
  }

  /** Runs `fn` after whatever the scope is doing now. */
  function serial<T>(w: Watched, fn: () => Promise<T>): Promise<T> {
    const run = w.chain.then(fn, fn);
    w.chain = run.catch(() => {});
    track(run.catch(() => {}));
    return run;
  }

  function track(p: Promise<unknown>) {
    pending.add(p);
    p.finally(() => pending.delete(p));
  }

  function expire(now: number) {
    for (const [key, w] of watched) {
      if (now - w.readAt > watchMs) forget(key, w);
    }
    while (watched.size > maxScopes) {
      const oldest = [...watched.entries()].reduce((a, b) => (b[1].readAt < a[1].readAt ? b : a));
      forget(oldest[0], oldest[1]);
    }
  }

  function forget(key: string, w: Watched) {
    if (w.timer) clearTimeout(w.timer);
    watched.delete(key);
  }

  function schedule(w: Watched) {
    if (closed) return;
    // Already due, or queued and not started (it reads the facts when it starts): ride along.
    if (w.timer || w.queued) return;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      w.queued = true;
      void serial(w, () => {
        w.queued = false;
        return advance(w);
      }).catch((err) =>
        deps.log.warn("topology: rebuild failed", { scope: scopeKey(w.scope), error: String(err) })
      );
    }, debounceMs);
  }

  return {
    /**
     * The scope's graph now, as the API answers it; the scope is watched from now on. When it was
     * watched already the read is a rebuild like any other (its differences are published), so
     * the version answered is the one the topic continues from.
     */
    async graph(scope: TopologyScope): Promise<TopologyGraph> {
      const key = scopeKey(scope);
      const now = deps.clock.now();
      let w = watched.get(key);
      if (!w) {
        const baseline = await build(scope, now);
        w = watched.get(key); // another read made it meanwhile
        if (!w) {
          w = { scope, baseline, readAt: now, chain: Promise.resolve() };
          watched.set(key, w);
          expire(now);
          return baseline;
        }
      }
      w.readAt = now;
      const mine = w;
      return await serial(mine, () => advance(mine));
    },

    /**
     * Something in organization `orgId` may have changed (null: anywhere): its watched scope and
     * the install's get a rebuild soon.
     */
    changed(orgId: string | null): void {
      if (closed || !watched.size) return;
      for (const w of watched.values()) {
        if (w.scope.kind === "install" || orgId === null || w.scope.orgId === orgId) schedule(w);
      }
    },

    /** Rebuilds every watched scope (a periodic pass: backup badges age without any event). */
    async refresh(): Promise<{ scopes: number }> {
      expire(deps.clock.now());
      const all = [...watched.values()];
      for (const w of all) await serial(w, () => advance(w)).catch(() => {});
      return { scopes: all.length };
    },

    /** Scopes watched now (tests, monitoring). */
    watchedScopes(): string[] {
      return [...watched.keys()];
    },

    /** Resolves when no rebuild is due or running. */
    async idle(): Promise<void> {
      while (pending.size || [...watched.values()].some((w) => w.timer)) {
        await Promise.all([...pending]);
        if ([...watched.values()].some((w) => w.timer)) {
          await new Promise((r) => setTimeout(r, debounceMs));
        }
      }
    },

    /** Stops scheduling; due rebuilds are dropped. */
    async close(): Promise<void> {
      closed = true;
      for (const w of watched.values()) if (w.timer) clearTimeout(w.timer);
      for (const w of watched.values()) w.timer = undefined;
      await Promise.all([...pending]);
    },
  };
}

export type Topology = ReturnType<typeof createTopology>;
