/**
 * Storage, egress and build facts (lib/billing/BILLING.md "Storage, egress and builds"), taken
 * by the `billing_facts` job (every minute, under the scheduler's lease) into billing's own
 * tables, where the hourly cycles meter them beside the reservations:
 *
 * - **Storage**: every 10 minutes, the bytes of the Docker volumes that app task containers mount
 *   (the engine's `system df` through each host's agent) and of the snapshot data (restic's added
 *   bytes per complete snapshot, from the snapshots module), per org, app and kind, kept as
 *   segments exactly like usage segments: a changed figure closes the open one and opens the next.
 * - **Egress**: each app container's transmit counter (`ctr.net_tx_bytes_total`, the metrics
 *   store's newest sample), its delta since the last read added to the app's bytes of the hour
 *   in which it is recorded.
 * - **Builds**: each build that ran and ended, recorded once (its id is the key) in the hour it is
 *   recorded, with its minutes rounded up as the quota counts them.
 *
 * Egress and builds are recorded in the hour of the hub's clock when they are read (within a
 * minute of the fact while the hub runs): an hour is billed 2 minutes after its end, so what was
 * recorded in it has committed; what the hub reads late (after a stop) is billed in the hour it
 * reads it, never lost and never twice. Each write is conditional (counters: where the row is
 * still the one read; builds: insert-if-absent; storage: as usage segments), so two hub replicas
 * running the job at once record each byte and build once.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { closeSegment, lostRace, Raced } from "./segments.ts";
import { buildMinutes, counterDelta, type CounterRead, HOUR_MS } from "./meter.ts";

/** A container of an app's Swarm task, on a Capstan host. */
export interface AppContainer {
  host_id: string;
  container_id: string;
  org_id: string;
  app_id: string;
  /** When its task was created (ms): a container newer than egress metering counts from 0. */
  created_at: number;
}

/** A volume of a host as its engine answers: size (null: not computed) and its users' ids. */
export interface SizedVolume {
  name: string;
  size: number | null;
  users: string[];
}

/** A build that ran and ended. */
export interface EndedBuild {
  id: string;
  org_id: string;
  app_id: string;
  started_at: number;
  finished_at: number;
}

/** Where the facts come from (the billing module wires them to the other modules' services). */
export interface FactSources {
  /** App task containers Swarm knows (running and recently ended); undefined: out of reach. */
  containers(): Promise<AppContainer[] | undefined>;
  /** The newest transmit counter of each container of a host sampled since `since`. */
  txCounters(hostId: string, since: number): Promise<Map<string, CounterRead>>;
  /** A host's volumes with sizes; undefined while its agent is offline or does not answer. */
  volumes(hostId: string): Promise<SizedVolume[] | undefined>;
  /** Snapshot data per org and app (null: no app's volume). */
  snapshotBytes(): Promise<{ org_id: string; app_id: string | null; bytes: number }[]>;
  /** Builds that ended at or after `after`, oldest end first, at most `limit`. */
  buildsEnded(after: number, limit: number): Promise<EndedBuild[]>;
}

/** Bytes stored now by an org's app (app_id "": outside any app), of one kind. */
export interface StorageFigure {
  org_id: string;
  app_id: string;
  kind: "volumes" | "snapshots";
  bytes: number;
}

/** What one run of the job recorded. */
export interface FactsReport {
  storage?: { opened: number; closed: number; raced?: boolean; volumes_complete: boolean };
  egress?: { containers: number; bytes: number; raced: number };
  builds?: { recorded: number };
  skipped?: string[];
}

export interface FactsDeps {
  db: Db;
  clock: Clock;
  sources: FactSources;
  /** How often storage is sampled (default 10 min: `system df` walks every volume on disk). */
  storageEveryMs?: number;
}

/** A counter sample older than this is not current (the agent samples every 10 s). */
const COUNTER_FRESH_MS = 15 * 60_000;
/** Counter rows of containers not seen for this long go. */
const COUNTER_KEEP_MS = 7 * 24 * HOUR_MS;
/** Builds read per page; a few pages per run. */
const BUILD_PAGE = 1000;
/** Builds whose end committed a little after a later one's are read again (the key dedups). */
const BUILD_SLACK_MS = 10 * 60_000;

const storageKey = (f: { org_id: string; app_id: string; kind: string }) =>
  `${f.org_id}\0${f.app_id}\0${f.kind}`;

/** Creates the facts recorder. */
export function createFacts(deps: FactsDeps) {
  const { db, clock, sources } = deps;
  const storageEvery = deps.storageEveryMs ?? 10 * 60_000;
  let storageAt = -Infinity;

  /** The instant a fact started being metered (set once, by whichever replica is first). */
  async function since(key: "egress_since" | "builds_since"): Promise<number> {
    await db.insertInto("billing_facts_state").values({ key, value: clock.now() })
      .onConflict((oc) => oc.column("key").doNothing()).execute();
    const r = await db.selectFrom("billing_facts_state").select("value").where("key", "=", key)
      .executeTakeFirstOrThrow();
    return Number(r.value);
  }

  /**
   * Makes the open storage segments equal to `now` for the given kinds (figures of 0 bytes
   * store nothing and end the open segment). Same rules as usage segments (usage.ts `observe`).
   */
  async function observeStorage(
    now: StorageFigure[],
    kinds: StorageFigure["kind"][],
  ): Promise<{ opened: number; closed: number; raced?: boolean }> {
    const at = Math.floor(clock.now() / 1000) * 1000;
    const want = new Map(
      now.filter((f) => f.bytes > 0 && kinds.includes(f.kind)).map((f) => [storageKey(f), f]),
    );
    if (!kinds.length) return { opened: 0, closed: 0 };
    try {
      return await db.transaction().execute(async (tx) => {
        const open = await tx.selectFrom("billing_storage").selectAll()
          .where("ended_at", "is", null).where("kind", "in", kinds).execute();
        let opened = 0, closed = 0;
        const kept = new Set<string>();
        for (const o of open) {
          const k = storageKey(o);
          if (want.get(k)?.bytes === Number(o.bytes)) {
            kept.add(k);
            continue;
          }
          await closeSegment(tx, "billing_storage", o, at);
          closed++;
        }
        for (const [k, f] of want) {
          if (kept.has(k)) continue;
          await tx.insertInto("billing_storage").values({
            id: uuidv7(at),
            org_id: f.org_id,
            app_id: f.app_id,
            kind: f.kind,
            bytes: f.bytes,
            started_at: at,
            ended_at: null,
          }).execute();
          opened++;
        }
        return { opened, closed };
      });
    } catch (err) {
      if (lostRace(err)) {
        return { opened: 0, closed: 0, raced: true };
      }
      throw err;
    }
  }

  /**
   * Storage now: volumes on the hosts of app containers, each billed to the app of the first of
   * its users that is an app task container (a volume no app container mounts — its app deleted
   * and the containers gone — is nobody's), and snapshot data. Volumes are taken only when every
   * such host answered: a silent host would otherwise look like its volumes were deleted.
   */
  async function storageNow(containers: AppContainer[]) {
    const byId = new Map(containers.map((c) => [c.container_id, c]));
    const hosts = [...new Set(containers.map((c) => c.host_id))].sort();
    const sum = new Map<string, StorageFigure>();
    const add = (org_id: string, app_id: string, kind: StorageFigure["kind"], bytes: number) => {
      if (!(bytes > 0)) return;
      const k = storageKey({ org_id, app_id, kind });
      const f = sum.get(k) ?? { org_id, app_id, kind, bytes: 0 };
      f.bytes += bytes;
      sum.set(k, f);
    };
    let complete = true;
    for (const h of hosts) {
      const vols = await sources.volumes(h).catch(() => undefined);
      if (!vols) {
        complete = false;
        continue;
      }
      for (const v of vols) {
        const owner = v.users.map((id) => byId.get(id)).find((c) => c !== undefined);
        if (owner && v.size !== null) add(owner.org_id, owner.app_id, "volumes", v.size);
      }
    }
    for (const s of await sources.snapshotBytes()) {
      add(s.org_id, s.app_id ?? "", "snapshots", s.bytes);
    }
    return { figures: [...sum.values()], complete };
  }

  /** Adds each app container's transmit counter delta to its app's bytes of this hour. */
  async function observeEgress(containers: AppContainer[]) {
    const now = clock.now();
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const start = await since("egress_since");
    const report = { containers: 0, bytes: 0, raced: 0 };
    const byHost = new Map<string, AppContainer[]>();
    for (const c of containers) byHost.set(c.host_id, [...byHost.get(c.host_id) ?? [], c]);
    for (const [hostId, list] of byHost) {
      const reads = await sources.txCounters(hostId, now - COUNTER_FRESH_MS);
      const mine = list.filter((c) => reads.has(c.container_id));
      if (!mine.length) continue;
      try {
        const added = await db.transaction().execute(async (tx) => {
          const prev = new Map<string, CounterRead>();
          const ids = mine.map((c) => c.container_id);
          for (let i = 0; i < ids.length; i += 500) {
            const rows = await tx.selectFrom("billing_egress_counters")
              .select(["container_id", "tx_bytes", "t"]).where("host_id", "=", hostId)
              .where("container_id", "in", ids.slice(i, i + 500)).execute();
            for (const r of rows) {
              prev.set(r.container_id, { v: Number(r.tx_bytes), t: Number(r.t) });
            }
          }
          const perApp = new Map<string, { org_id: string; app_id: string; bytes: number }>();
          let bytes = 0;
          for (const c of mine) {
            const cur = reads.get(c.container_id)!;
            const p = prev.get(c.container_id);
            if (p && cur.t <= p.t) continue;
            const delta = counterDelta(p, cur, c.created_at >= start);
            const v = Math.max(0, Math.floor(cur.v));
            if (p) {
              // Conditional on the row read: a replica that moved it first makes this one give way.
              const r = await tx.updateTable("billing_egress_counters")
                .set({ tx_bytes: v, t: cur.t, updated_at: now })
                .where("host_id", "=", hostId).where("container_id", "=", c.container_id)
                .where("t", "=", p.t).where("tx_bytes", "=", p.v).executeTakeFirst();
              if (Number(r.numUpdatedRows) !== 1) throw new Raced();
            } else {
              await tx.insertInto("billing_egress_counters").values({
                host_id: hostId,
                container_id: c.container_id,
                org_id: c.org_id,
                app_id: c.app_id,
                tx_bytes: v,
                t: cur.t,
                updated_at: now,
              }).execute();
            }
            if (delta <= 0) continue;
            const k = `${c.org_id}\0${c.app_id}`;
            const a = perApp.get(k) ?? { org_id: c.org_id, app_id: c.app_id, bytes: 0 };
            a.bytes += delta;
            perApp.set(k, a);
            bytes += delta;
          }
          for (const a of perApp.values()) {
            await tx.insertInto("billing_egress").values({ ...a, hour }).onConflict((oc) =>
              oc.columns(["org_id", "hour", "app_id"]).doUpdateSet((eb) => ({
                bytes: eb("billing_egress.bytes", "+", eb.ref("excluded.bytes")),
              }))
            ).execute();
          }
          return bytes;
        });
        report.containers += mine.length;
        report.bytes += added;
      } catch (err) {
        if (!lostRace(err)) throw err;
        report.raced++;
      }
    }
    await db.deleteFrom("billing_egress_counters").where("updated_at", "<", now - COUNTER_KEEP_MS)
      .execute();
    return report;
  }

  /** Records the builds that ended since the last one recorded, each once. */
  async function observeBuilds() {
    const start = await since("builds_since");
    const last = await db.selectFrom("billing_builds")
      .select((eb) => eb.fn.max("finished_at").as("at")).executeTakeFirst();
    let after = Math.max(start, Number(last?.at ?? start) - BUILD_SLACK_MS);
    const hour = Math.floor(clock.now() / HOUR_MS) * HOUR_MS;
    let recorded = 0;
    for (let page = 0; page < 5; page++) {
      const builds = (await sources.buildsEnded(after, BUILD_PAGE)).filter((b) =>
        b.finished_at >= start
      );
      if (builds.length) {
        const r = await db.insertInto("billing_builds").values(builds.map((b) => ({
          build_id: b.id,
          org_id: b.org_id,
          app_id: b.app_id,
          started_at: b.started_at,
          finished_at: b.finished_at,
          minutes: buildMinutes(b.started_at, b.finished_at),
          hour,
        }))).onConflict((oc) => oc.column("build_id").doNothing()).executeTakeFirst();
        recorded += Number(r.numInsertedOrUpdatedRows ?? 0);
      }
      if (builds.length < BUILD_PAGE) break;
      const next = builds[builds.length - 1].finished_at;
      // A page of builds ending in one millisecond cannot move the cursor: the next run retries.
      if (next <= after) break;
      after = next;
    }
    return { recorded };
  }

  return {
    observeStorage,
    observeEgress,
    observeBuilds,

    /** The job: builds always; egress and storage (every storageEveryMs) when Swarm answers. */
    async run(): Promise<FactsReport> {
      const report: FactsReport = { builds: await observeBuilds() };
      const containers = await sources.containers().catch(() => undefined);
      if (!containers) {
        // Swarm out of reach: which container is whose is unknown; snapshot data still is.
        report.skipped = ["egress", "volumes"];
        if (clock.now() - storageAt >= storageEvery) {
          storageAt = clock.now();
          const figures = (await sources.snapshotBytes()).map((s) => ({
            org_id: s.org_id,
            app_id: s.app_id ?? "",
            kind: "snapshots" as const,
            bytes: s.bytes,
          }));
          report.storage = {
            ...await observeStorage(figures, ["snapshots"]),
            volumes_complete: false,
          };
        }
        return report;
      }
      report.egress = await observeEgress(containers);
      if (clock.now() - storageAt >= storageEvery) {
        storageAt = clock.now();
        const { figures, complete } = await storageNow(containers);
        report.storage = {
          ...await observeStorage(figures, complete ? ["volumes", "snapshots"] : ["snapshots"]),
          volumes_complete: complete,
        };
      }
      return report;
    },

    /** Bytes an org stores now (open storage segments): the storage_bytes quota's use. */
    async storedBytes(orgId: string): Promise<number> {
      const r = await db.selectFrom("billing_storage")
        .select((eb) => eb.fn.sum<number>("bytes").as("b")).where("org_id", "=", orgId)
        .where("ended_at", "is", null).executeTakeFirst();
      return Number(r?.b ?? 0);
    },

    /** Bytes an org's apps transmitted this UTC calendar month (recorded hours). */
    async egressThisMonth(orgId: string): Promise<number> {
      const d = new Date(clock.now());
      const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const r = await db.selectFrom("billing_egress")
        .select((eb) => eb.fn.sum<number>("bytes").as("b")).where("org_id", "=", orgId)
        .where("hour", ">=", month).executeTakeFirst();
      return Number(r?.b ?? 0);
    },
  };
}

export type Facts = ReturnType<typeof createFacts>;
