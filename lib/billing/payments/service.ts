/**
 * Wallet top-ups through a payment provider (lib/billing/BILLING.md "Top-ups through a payment
 * provider"). An org admin starts one (a `billing_payments` row, then the provider's checkout);
 * the payer approves it at the provider; the return route captures it and the provider's webhook
 * reports it — in any order, twice, or on two hub replicas — and the wallet is credited exactly
 * once: a conditional update moves the row out of an open status and the ledger `top_up`
 * referencing the provider's capture id is written in the same transaction (the ledger's unique
 * `(kind, reference)` backs it up). A capture whose amount or currency differs from the row
 * credits nothing and is audited. Every step is audited (`payment.*`).
 */
import { z } from "zod";
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../log.ts";
import type { ActionContext, AuditLog } from "../../audit/service.ts";
import { uuidv7 } from "../../util/ids.ts";
import { Invalid, NotFound, Rejected, Unavailable } from "../../errors.ts";
import { isUniqueViolation } from "../../db/unique.ts";
import { digitsOf, money } from "../../../components/money.ts";
import { appendEntry } from "../ledger.ts";
import type { Plans } from "../plans.ts";
import type { Wallet } from "../wallet.ts";
import type { BillingPaymentsTable } from "../tables.ts";
import {
  type CaptureFact,
  type PaymentProvider,
  PaymentProviderError,
  WebhookRefused,
} from "./provider.ts";

/** A payment as listed. */
export type Payment = BillingPaymentsTable;

/** Smallest and largest top-up, in major units of the currency (1.00 to 100,000.00 EUR). */
export const MIN_MAJOR = 1;
export const MAX_MAJOR = 100_000;

/** The API's body: minor units of the org's currency. */
export const StartInput = z.object({
  amount: z.number().int("must be whole minor units (cents)").min(1).max(1e12),
}).strict();

/**
 * Webhook deliveries being verified at once, at most: each costs a call to the provider, so a
 * flood of forged deliveries cannot make the hub open unbounded outbound requests. Past it the
 * answer is 503 and PayPal delivers again later.
 */
export const MAX_WEBHOOKS_IN_FLIGHT = 16;

/** Statuses a capture may still settle from (cancelled: the payer may have gone back and paid). */
const OPEN = ["created", "approved", "cancelled"] as const;

const SYSTEM_CTX: ActionContext = { actor: { type: "system", id: "payments", name: "payments" } };

export interface PaymentsDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  plans: Plans;
  wallet: Pick<Wallet, "check">;
  /** The provider, or undefined when none is configured (top-ups by admins only). */
  provider?: PaymentProvider;
  /** The hub's public URL (return and cancel links); read per use (port 0 learns its port late). */
  publicUrl: () => string;
}

/** What a webhook delivery came to. */
export type WebhookOutcome =
  | "credited"
  | "already"
  | "denied"
  | "pending"
  | "refunded"
  | "mismatch"
  | "unknown_payment"
  | "ignored";

/** Minimum and maximum of a top-up in minor units of `currency`. */
export function limitsOf(currency: string): { min: number; max: number } {
  const unit = 10 ** digitsOf(currency);
  return { min: MIN_MAJOR * unit, max: MAX_MAJOR * unit };
}

const rowOf = (r: Record<string, unknown>): Payment => ({
  ...(r as unknown as Payment),
  amount: Number(r.amount),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

/** Creates the payments service. */
export function createPayments(deps: PaymentsDeps) {
  const { db, clock, log, audit, plans, wallet, provider, publicUrl } = deps;

  let webhooksInFlight = 0;

  const need = (): PaymentProvider => {
    if (!provider) {
      throw new Unavailable(
        "Online top-ups are not configured on this hub (CAPSTAN_PAYPAL_*)",
        "payments_unconfigured",
      );
    }
    return provider;
  };

  const get = async (orgId: string, id: string): Promise<Payment> => {
    const r = await db.selectFrom("billing_payments").selectAll().where("org_id", "=", orgId)
      .where("id", "=", id).executeTakeFirst();
    if (!r) throw new NotFound("payment not found");
    return rowOf(r);
  };

  const byOrder = async (providerName: string, orderId: string) => {
    const r = await db.selectFrom("billing_payments").selectAll()
      .where("provider", "=", providerName).where("provider_order_id", "=", orderId)
      .executeTakeFirst();
    return r ? rowOf(r) : undefined;
  };

  const record = (
    ctx: ActionContext,
    p: Payment,
    action: string,
    metadata: Record<string, unknown>,
    status: "ok" | "error" = "ok",
    error?: string,
  ) =>
    audit.record({
      ctx,
      orgId: p.org_id,
      action,
      target: { type: "payment", id: p.id },
      status,
      error,
      durationMs: 0,
      metadata: { provider: p.provider, amount: p.amount, currency: p.currency, ...metadata },
    });

  /**
   * Applies a capture fact to its payment, once: the row leaves an open status by a conditional
   * update, and a completed capture's ledger entry is written in the same transaction. Only the
   * caller whose update took effect audits; anyone else learns "already".
   */
  async function settle(ctx: ActionContext, p: Payment, f: CaptureFact): Promise<WebhookOutcome> {
    const now = clock.now();
    if (f.kind === "refunded") return await refund(ctx, p, f);
    const mismatch = f.amount !== p.amount || f.currency !== p.currency ||
      (f.paymentId !== undefined && f.paymentId !== p.id);
    if (mismatch) {
      const why = `the capture is ${f.amount} ${f.currency}` +
        (f.paymentId && f.paymentId !== p.id ? ` for payment ${f.paymentId}` : "") +
        `, the payment ${p.amount} ${p.currency}: nothing credited`;
      const r = await db.updateTable("billing_payments")
        .set({ status: "failed", error: why, capture_id: f.captureId, updated_at: now })
        .where("id", "=", p.id).where("status", "in", [...OPEN]).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) {
        log.warn("payment capture does not match its payment; nothing credited", {
          payment: p.id,
          capture: f.captureId,
        });
        await record(
          ctx,
          p,
          "payment.mismatch",
          {
            capture_id: f.captureId,
            captured_amount: f.amount,
            captured_currency: f.currency,
          },
          "error",
          why,
        );
      }
      return "mismatch";
    }
    if (f.kind === "pending") {
      const r = await db.updateTable("billing_payments")
        .set({ status: "approved", capture_id: f.captureId, updated_at: now })
        .where("id", "=", p.id).where("status", "in", ["created", "cancelled"]).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) {
        await record(ctx, p, "payment.approved", { capture_id: f.captureId, pending: true });
      }
      return "pending";
    }
    if (f.kind === "denied") {
      const r = await db.updateTable("billing_payments")
        .set({ status: "denied", error: "the payment was denied", updated_at: now })
        .where("id", "=", p.id).where("status", "in", [...OPEN]).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) {
        await record(ctx, p, "payment.denied", { capture_id: f.captureId });
      }
      return "denied";
    }
    let credited = false;
    try {
      credited = await db.transaction().execute(async (tx) => {
        const r = await tx.updateTable("billing_payments")
          .set({ status: "captured", capture_id: f.captureId, error: null, updated_at: now })
          .where("id", "=", p.id).where("status", "in", [...OPEN]).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        await appendEntry(tx, {
          org_id: p.org_id,
          kind: "top_up",
          amount: p.amount,
          currency: p.currency,
          reference: `${p.provider}:${f.captureId}`,
          actor: p.created_by,
          note: `${provider?.label ?? p.provider} top-up (order ${p.provider_order_id})`,
        }, now);
        return true;
      });
    } catch (err) {
      // The ledger already holds this capture (a row that lost its status by other means).
      if (!isUniqueViolation(err)) throw err;
    }
    if (!credited) return "already";
    await record(ctx, p, "payment.captured", {
      capture_id: f.captureId,
      order_id: p.provider_order_id,
    });
    // A top-up that covers the debt ends grace (and deploy blocking) at once.
    await wallet.check(p.org_id);
    return "credited";
  }

  /** A refund at the provider takes the money back out of the wallet, once per refund. */
  async function refund(
    ctx: ActionContext,
    p: Payment,
    f: Extract<CaptureFact, { kind: "refunded" }>,
  ): Promise<WebhookOutcome> {
    if (f.currency !== p.currency || f.amount <= 0 || f.amount > p.amount) {
      await record(
        ctx,
        p,
        "payment.refund_mismatch",
        {
          refund_id: f.refundId,
          refunded_amount: f.amount,
          refunded_currency: f.currency,
        },
        "error",
        "the refund does not fit the payment: nothing debited",
      );
      return "mismatch";
    }
    try {
      await db.transaction().execute((tx) =>
        appendEntry(tx, {
          org_id: p.org_id,
          kind: "adjustment",
          amount: -f.amount,
          currency: p.currency,
          reference: `${p.provider}-refund:${f.refundId}`,
          actor: "system:payments",
          note: `${provider?.label ?? p.provider} refund of capture ${f.captureId}`,
        }, clock.now())
      );
    } catch (err) {
      if (isUniqueViolation(err)) return "already";
      throw err;
    }
    await record(ctx, p, "payment.refunded", { refund_id: f.refundId, refunded: f.amount });
    await wallet.check(p.org_id);
    return "refunded";
  }

  return {
    /** Whether online top-ups are possible, and through what ("PayPal"). */
    provider: provider ? { name: provider.name, label: provider.label } : undefined,

    get,

    /** An org's payments, newest first. */
    async list(orgId: string, page: { limit: number; offset: number }): Promise<Payment[]> {
      const rows = await db.selectFrom("billing_payments").selectAll().where("org_id", "=", orgId)
        .orderBy("created_at", "desc").orderBy("id", "desc").limit(Math.min(page.limit, 200))
        .offset(page.offset).execute();
      return rows.map(rowOf);
    },

    /**
     * Starts a top-up of `input.amount` minor units of the org's plan currency: the row first
     * (so its id ties the provider's order back), then the provider's checkout. When the provider
     * cannot be reached the row is kept as `failed` with the reason and the error says so.
     */
    async start(
      ctx: ActionContext,
      org: { id: string; slug: string },
      input: unknown,
    ): Promise<{ payment: Payment; approve_url: string }> {
      const pv = need();
      const parsed = StartInput.safeParse(input);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new Invalid(`Invalid input: ${i.path.join(".") || "amount"}`, {
          [i.path.join(".") || "amount"]: i.message,
        });
      }
      const { currency } = await plans.forOrg(org.id);
      const { amount } = parsed.data;
      const { min, max } = limitsOf(currency);
      if (amount < min || amount > max) {
        throw new Invalid("Invalid input: amount", {
          amount: `must be between ${money(min, currency)} and ${money(max, currency)} ` +
            `(${min} to ${max} minor units)`,
        });
      }
      const refused = pv.refuses(amount, currency);
      if (refused) {
        throw new Invalid(`Invalid input: ${refused.field}`, { [refused.field]: refused.why });
      }
      const now = clock.now();
      const actor = `${ctx.actor.type}:${ctx.actor.id ?? ctx.actor.name ?? "unknown"}`;
      const payment: Payment = {
        id: uuidv7(now),
        org_id: org.id,
        amount,
        currency,
        provider: pv.name,
        provider_order_id: null,
        approve_url: null,
        capture_id: null,
        status: "created",
        error: null,
        created_by: actor,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto("billing_payments").values(payment).execute();
      const base = `${publicUrl()}/o/${
        encodeURIComponent(org.slug)
      }/billing/payments/${payment.id}`;
      try {
        const checkout = await pv.createCheckout({
          paymentId: payment.id,
          amount,
          currency,
          description: `Capstan wallet top-up for ${org.slug}`,
          returnUrl: `${base}/return`,
          cancelUrl: `${base}/cancel`,
        });
        await db.updateTable("billing_payments")
          .set({
            provider_order_id: checkout.orderId,
            approve_url: checkout.approveUrl,
            updated_at: clock.now(),
          })
          .where("id", "=", payment.id).execute();
        payment.provider_order_id = checkout.orderId;
        payment.approve_url = checkout.approveUrl;
        await record(ctx, payment, "payment.created", { order_id: checkout.orderId });
        return { payment, approve_url: checkout.approveUrl };
      } catch (err) {
        const why = err instanceof PaymentProviderError ? err.message : "the checkout failed";
        await db.updateTable("billing_payments")
          .set({ status: "failed", error: why, updated_at: clock.now() })
          .where("id", "=", payment.id).execute();
        await record(ctx, payment, "payment.created", {}, "error", why);
        if (err instanceof PaymentProviderError) {
          throw new Unavailable(`${why}. Nothing was charged; try again later.`, "provider_down");
        }
        throw err;
      }
    },

    /**
     * The payer came back from approving: capture the order and settle the result. Idempotent:
     * a payment already settled is answered as it is. `token` (the provider's order id in the
     * return URL) must name this payment's order when given.
     */
    async complete(
      ctx: ActionContext,
      orgId: string,
      id: string,
      token?: string,
    ): Promise<{ payment: Payment; outcome: WebhookOutcome }> {
      const pv = need();
      const p = await get(orgId, id);
      if (token !== undefined && token !== p.provider_order_id) {
        throw new Rejected("The return link does not belong to this payment", "token_mismatch");
      }
      if (!(OPEN as readonly string[]).includes(p.status) || p.status === "approved") {
        // Settled (captured, denied, failed) — or approved-pending: the webhook settles that.
        return { payment: p, outcome: p.status === "captured" ? "already" : "ignored" };
      }
      if (!p.provider_order_id) throw new Rejected("The payment has no order at the provider");
      let fact: CaptureFact;
      try {
        fact = await pv.capture(p.provider_order_id, p.id, p.currency);
      } catch (err) {
        if (!(err instanceof PaymentProviderError)) throw err;
        // Nothing is lost: the row stays open; reloading the page or the webhook settles it.
        await record(
          ctx,
          p,
          "payment.capture",
          { order_id: p.provider_order_id },
          "error",
          err.message,
        );
        if (err.status === 422) {
          // Not approved (yet), or refused for good: PayPal said so in words.
          throw new Rejected(`${err.message}. Nothing was charged.`, "capture_refused");
        }
        throw new Unavailable(
          `${err.message}. If you approved the payment it will be credited once PayPal ` +
            "confirms it; reload this page to try again.",
          "provider_down",
        );
      }
      const outcome = await settle(ctx, p, fact);
      return { payment: await get(orgId, id), outcome };
    },

    /** The payer came back through the cancel link: nothing is charged; audited. */
    async cancel(ctx: ActionContext, orgId: string, id: string): Promise<Payment> {
      const p = await get(orgId, id);
      const r = await db.updateTable("billing_payments")
        .set({ status: "cancelled", updated_at: clock.now() })
        .where("id", "=", p.id).where("status", "=", "created").executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await record(ctx, p, "payment.cancelled", {});
      return await get(orgId, id);
    },

    /**
     * A provider's webhook delivery: verified with the provider, then applied to its payment
     * (found by the provider's order id, or by the capture id for a refund). Unknown events and
     * payments are acknowledged and ignored. Throws WebhookRefused (nothing applied) when the
     * signature does not verify, Unavailable when the provider cannot be asked (it retries).
     */
    async webhook(headers: Headers, rawBody: string): Promise<WebhookOutcome> {
      const pv = need();
      if (webhooksInFlight >= MAX_WEBHOOKS_IN_FLIGHT) {
        throw new Unavailable(
          `${MAX_WEBHOOKS_IN_FLIGHT} webhook deliveries are being verified already; deliver later`,
          "busy",
        );
      }
      let v;
      webhooksInFlight++;
      try {
        v = await pv.verifyWebhook(headers, rawBody);
      } catch (err) {
        if (err instanceof WebhookRefused) {
          log.warn("payment webhook refused", { provider: pv.name, why: err.message });
          await audit.record({
            ctx: SYSTEM_CTX,
            action: "payment.webhook_refused",
            target: { type: "payment_webhook", name: pv.name },
            status: "error",
            error: err.message,
            durationMs: 0,
          });
          throw err;
        }
        if (err instanceof PaymentProviderError) {
          throw new Unavailable(`${err.message}; the delivery is not applied`, "provider_down");
        }
        throw err;
      } finally {
        webhooksInFlight--;
      }
      if (v.kind === "ignored") return "ignored";
      const f = v.fact;
      let p: Payment | undefined;
      if (f.kind === "refunded") {
        const r = await db.selectFrom("billing_payments").selectAll()
          .where("provider", "=", pv.name).where("capture_id", "=", f.captureId)
          .executeTakeFirst();
        p = r ? rowOf(r) : undefined;
      } else if (f.orderId) {
        p = await byOrder(pv.name, f.orderId);
      }
      if (!p && f.paymentId) {
        const r = await db.selectFrom("billing_payments").selectAll()
          .where("id", "=", f.paymentId).where("provider", "=", pv.name).executeTakeFirst();
        p = r ? rowOf(r) : undefined;
      }
      if (!p) {
        log.info("payment webhook for no known payment; ignored", {
          event: v.eventId,
          type: v.eventType,
        });
        return "unknown_payment";
      }
      return await settle(SYSTEM_CTX, p, f);
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
