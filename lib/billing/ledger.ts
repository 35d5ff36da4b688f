/**
 * The wallet's ledger: signed integer entries in minor units, appended and never changed. The
 * balance is the entries' sum; `billing_wallets` caches it, changed only by `append` in the
 * transaction that writes the entry (a test checks the two agree after many random operations).
 */
import { sql } from "kysely";
import { z } from "zod";
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Invalid } from "../errors.ts";

const Amount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** A ledger entry to append; the sign must suit the kind. */
export const LedgerEntryInput = z.object({
  org_id: z.string().min(1).max(64),
  kind: z.enum(["top_up", "charge", "refund", "adjustment"]),
  amount: Amount,
  currency: z.string().regex(/^[A-Z]{3}$/),
  reference: z.string().min(1).max(200).nullable().default(null),
  actor: z.string().min(1).max(200),
  note: z.string().max(1000).nullable().default(null),
}).strict().superRefine((e, ctx) => {
  const ok = e.kind === "charge"
    ? e.amount < 0
    : e.kind === "adjustment"
    ? e.amount !== 0
    : e.amount > 0;
  if (!ok) {
    ctx.addIssue({
      code: "custom",
      path: ["amount"],
      message: e.kind === "charge"
        ? "a charge is negative"
        : e.kind === "adjustment"
        ? "an adjustment is not zero"
        : `a ${e.kind.replace("_", "-")} is positive`,
    });
  }
});
export type LedgerEntryInput = z.input<typeof LedgerEntryInput>;

/** A ledger entry as written. */
export interface LedgerEntry {
  id: string;
  org_id: string;
  at: number;
  kind: "top_up" | "charge" | "refund" | "adjustment";
  amount: number;
  currency: string;
  reference: string | null;
  actor: string;
  note: string | null;
}

/**
 * Appends an entry and moves the cached balance by its amount, both through `tx` (the caller's
 * transaction: a cycle's charge is written with the cycle, or not at all).
 */
export async function appendEntry(
  tx: Db,
  input: LedgerEntryInput,
  at: number,
): Promise<LedgerEntry> {
  const parsed = LedgerEntryInput.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Invalid(`Invalid ledger entry: ${i.path.join(".")} ${i.message}`, {
      [i.path.join(".") || "entry"]: i.message,
    });
  }
  const e = parsed.data;
  const row: LedgerEntry = { id: uuidv7(at), at, ...e };
  await tx.insertInto("billing_ledger").values(row).execute();
  await tx.insertInto("billing_wallets").values({
    org_id: e.org_id,
    balance: e.amount,
    updated_at: at,
  }).onConflict((oc) =>
    oc.column("org_id").doUpdateSet({
      balance: sql`billing_wallets.balance + excluded.balance`,
      updated_at: sql`excluded.updated_at`,
    })
  ).execute();
  return row;
}

/** Creates the ledger service. */
export function createLedger(db: Db, clock: Clock) {
  return {
    /** Appends one entry in a transaction of its own. */
    append(input: LedgerEntryInput): Promise<LedgerEntry> {
      return db.transaction().execute((tx) => appendEntry(tx, input, clock.now()));
    },

    /** The balance: the sum of the org's entries (the truth). */
    async balance(orgId: string): Promise<number> {
      const r = await db.selectFrom("billing_ledger")
        .select((eb) => eb.fn.sum<string | number | null>("amount").as("s"))
        .where("org_id", "=", orgId).executeTakeFirst();
      return Number(r?.s ?? 0);
    },

    /** The cached balance (0 before the first entry). */
    async cachedBalance(orgId: string): Promise<number> {
      const r = await db.selectFrom("billing_wallets").select("balance")
        .where("org_id", "=", orgId).executeTakeFirst();
      return Number(r?.balance ?? 0);
    },

    /** The org's entries, newest first, a page at a time. */
    async entries(
      orgId: string,
      f: { limit?: number; offset?: number } = {},
    ): Promise<LedgerEntry[]> {
      const rows = await db.selectFrom("billing_ledger").selectAll().where("org_id", "=", orgId)
        .orderBy("at", "desc").orderBy("id", "desc").limit(Math.min(f.limit ?? 50, 500))
        .offset(f.offset ?? 0).execute();
      return rows.map((r) => ({ ...r, at: Number(r.at), amount: Number(r.amount) }));
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
