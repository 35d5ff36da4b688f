/**
 * Wallet grace: when a charge leaves an org's balance below zero it enters a grace period
 * (CAPSTAN_BILLING_GRACE_HOURS, default 24 h), with a notice at its start, halfway and end; after
 * it, new deploys are blocked (`blocksDeploys`) until the balance is back at zero or more, which
 * ends grace or blocking at once.
 *
 * State lives in `billing_grace` (one row per org in trouble; none: fine). Every transition is a
 * conditional write on that row — insert (start), update where not yet notified (halfway), update
 * where still in grace (block), delete where the state is the one read (recover) — so of two
 * replicas running the check at once exactly one makes each transition, and only it audits and
 * emits the `billing.wallet` event (which the alerts module turns into a notice).
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { EventBus } from "../events.ts";
import type { AuditLog } from "../audit/service.ts";
import type { BillingGraceTable } from "./tables.ts";

export type { WalletNotice, WalletTransition } from "./events.ts";
import type { WalletNotice, WalletTransition } from "./events.ts";

/** An org's wallet standing, as pages and the API show it. */
export interface WalletStanding {
  state: "ok" | "grace" | "blocked";
  started_at: number | null;
  ends_at: number | null;
}

export interface WalletDeps {
  db: Db;
  clock: Clock;
  events: EventBus;
  audit: Pick<AuditLog, "record">;
  /** The grace period, ms (0: deploys are blocked as soon as the balance is below zero). */
  graceMs: number;
}

const ACTIONS: Record<WalletTransition, string> = {
  grace_started: "billing.grace_started",
  grace_halfway: "billing.grace_halfway",
  blocked: "billing.deploys_blocked",
  recovered: "billing.grace_ended",
  // Each stop is audited by the apps module (`app.stopped` with the reason); no row of its own.
  apps_stopped: "billing.apps_stopped",
};

/** Creates the wallet grace service. */
export function createWallet(deps: WalletDeps) {
  const { db, clock, events, audit, graceMs } = deps;

  const rowOf = async (orgId: string): Promise<BillingGraceTable | undefined> => {
    const r = await db.selectFrom("billing_grace").selectAll().where("org_id", "=", orgId)
      .executeTakeFirst();
    return r && {
      ...r,
      started_at: Number(r.started_at),
      ends_at: Number(r.ends_at),
      halfway_notified: Number(r.halfway_notified),
      updated_at: Number(r.updated_at),
    };
  };

  const balanceOf = async (orgId: string): Promise<number> => {
    const r = await db.selectFrom("billing_ledger")
      .select((eb) => eb.fn.sum<string | number | null>("amount").as("s"))
      .where("org_id", "=", orgId).executeTakeFirst();
    return Number(r?.s ?? 0);
  };

  /** Audits and announces a transition this replica made (and only it). */
  const made = async (n: WalletNotice) => {
    await audit.record({
      ctx: { actor: { type: "system", id: "billing", name: "billing" } },
      orgId: n.org_id,
      action: ACTIONS[n.transition],
      target: { type: "wallet", id: n.org_id },
      status: "ok",
      durationMs: 0,
      metadata: { balance: n.balance, started_at: n.started_at, ends_at: n.ends_at },
    });
    events.emit("billing.wallet", n);
  };

  /**
   * Moves one org's wallet to where its balance and the clock put it, one transition per step
   * (start, halfway, block can all fall in one call after a long outage: each is made, in order).
   * Returns the transitions this call made.
   */
  async function check(orgId: string): Promise<WalletTransition[]> {
    const done: WalletTransition[] = [];
    const balance = await balanceOf(orgId);
    let row = await rowOf(orgId);
    const now = clock.now();
    if (balance >= 0) {
      if (!row) return done;
      const r = await db.deleteFrom("billing_grace").where("org_id", "=", orgId)
        .where("state", "=", row.state).where("started_at", "=", row.started_at)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 1) {
        done.push("recovered");
        await made({
          org_id: orgId,
          transition: "recovered",
          balance,
          started_at: row.started_at,
          ends_at: row.ends_at,
        });
      }
      return done;
    }
    if (!row) {
      row = {
        org_id: orgId,
        state: "grace",
        started_at: now,
        ends_at: now + graceMs,
        halfway_notified: 0,
        updated_at: now,
      };
      const r = await db.insertInto("billing_grace").values(row)
        .onConflict((oc) => oc.column("org_id").doNothing()).executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return done; // another replica started it
      // A top-up that committed between the balance read and the insert (its own check saw no row
      // yet) would leave a grace nobody ends for a minute: read again before telling anyone.
      if (await balanceOf(orgId) >= 0) {
        await db.deleteFrom("billing_grace").where("org_id", "=", orgId)
          .where("started_at", "=", now).execute();
        return done;
      }
      done.push("grace_started");
      await made({ org_id: orgId, transition: "grace_started", balance, ...span(row) });
    }
    if (row.state === "grace" && !row.halfway_notified && graceMs > 0) {
      if (now >= row.started_at + (row.ends_at - row.started_at) / 2) {
        const r = await db.updateTable("billing_grace").set({
          halfway_notified: 1,
          updated_at: now,
        })
          .where("org_id", "=", orgId).where("state", "=", "grace")
          .where("halfway_notified", "=", 0).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) {
          done.push("grace_halfway");
          await made({ org_id: orgId, transition: "grace_halfway", balance, ...span(row) });
        }
      }
    }
    if (row.state === "grace" && now >= row.ends_at) {
      const r = await db.updateTable("billing_grace").set({ state: "blocked", updated_at: now })
        .where("org_id", "=", orgId).where("state", "=", "grace").executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) {
        done.push("blocked");
        await made({ org_id: orgId, transition: "blocked", balance, ...span(row) });
      }
    }
    return done;
  }

  return {
    check,

    /**
     * Checks every org that may need a transition: a cached balance below zero, or a grace row.
     * Bounded: at most 1000 orgs per run (the job runs every minute; the rest wait a minute).
     */
    async checkAll(): Promise<{ orgs: number; transitions: number }> {
      const negative = await db.selectFrom("billing_wallets").select("org_id")
        .where("balance", "<", 0).orderBy("org_id").limit(1000).execute();
      const graced = await db.selectFrom("billing_grace").select("org_id").orderBy("org_id")
        .limit(1000).execute();
      const orgs = [...new Set([...negative, ...graced].map((r) => r.org_id))].slice(0, 1000);
      let transitions = 0;
      for (const o of orgs) transitions += (await check(o)).length;
      return { orgs: orgs.length, transitions };
    },

    /** Orgs whose block the job has written (the grace action acts on them), at most `limit`. */
    async blockedOrgs(
      limit = 1000,
    ): Promise<Array<{ org_id: string; started_at: number; ends_at: number }>> {
      const rows = await db.selectFrom("billing_grace").select(["org_id", "started_at", "ends_at"])
        .where("state", "=", "blocked").orderBy("org_id").limit(limit).execute();
      return rows.map((r) => ({
        org_id: r.org_id,
        started_at: Number(r.started_at),
        ends_at: Number(r.ends_at),
      }));
    },

    /**
     * Tells that the grace action stopped `apps` (the caller won each stop's conditional write):
     * the `billing.wallet` event (alerts: one notice); each stop has its own audit row.
     */
    async appsStopped(orgId: string, apps: string[]): Promise<void> {
      const row = await rowOf(orgId);
      if (!row) return;
      const balance = await balanceOf(orgId);
      const at = clock.now();
      events.emit("billing.wallet", {
        org_id: orgId,
        transition: "apps_stopped",
        balance,
        ...span(row),
        apps,
        at,
      });
    },

    /** Where the org's wallet stands (as stored; the job makes time-due transitions). */
    async standing(orgId: string): Promise<WalletStanding> {
      const row = await rowOf(orgId);
      if (!row) return { state: "ok", started_at: null, ends_at: null };
      // A grace period that ended blocks at once, even before the job writes it down.
      const state = row.state === "grace" && clock.now() >= row.ends_at ? "blocked" : row.state;
      return { state, started_at: row.started_at, ends_at: row.ends_at };
    },

    /**
     * Why the org may not deploy now, or undefined: its wallet has been below zero for longer
     * than the grace period. For the quotas module's checks before a deploy.
     */
    async blocksDeploys(orgId: string): Promise<string | undefined> {
      const row = await rowOf(orgId);
      if (!row || clock.now() < row.ends_at) return undefined;
      return `The wallet has been below zero since ${
        new Date(row.started_at).toISOString()
      } and its grace period ended ${
        new Date(row.ends_at).toISOString()
      }: a top-up is needed to deploy`;
    },
  };
}

const span = (r: { started_at: number; ends_at: number }) => ({
  started_at: r.started_at,
  ends_at: r.ends_at,
});

export type Wallet = ReturnType<typeof createWallet>;
