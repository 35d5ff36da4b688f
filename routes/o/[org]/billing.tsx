/**
 * An organization's Billing page (issue 21): balance, projected cost of what runs now, a banner
 * while the wallet is in grace or blocked, the billed hours by app and resource, a CSV export and
 * the ledger — read by its members, without JavaScript. Platform admins also see the forms that
 * top up (or refund, adjust) the wallet with a note and set the org's own price plan.
 */
import type { Hono } from "hono";
import type { ComponentChildren } from "preact";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
  principalOf,
} from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { notFound } from "../../../lib/http/errors.ts";
import { CORE_HOUR, GIB, GIB_HOUR, type PricePlan } from "../../../lib/billing/meter.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { graceBanner } from "../_grace.tsx";
import { StatCard } from "../../../components/StatCard.tsx";
import { Alert } from "../../../components/Alert.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { Time } from "../../../components/Time.tsx";
import { FormAlert, type FormState, SelectField, TextField } from "../../../components/Field.tsx";
import { errorsOf, formError, httpErrorOf, parseForm, readForm } from "../../_forms.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import type { Payment } from "../../../lib/billing/payments/service.ts";
import { limitsOf } from "../../../lib/billing/payments/service.ts";
import { render, seeOther } from "../../_render.tsx";
import { digitsOf, money, parseMoney } from "../../../components/money.ts";

const PATH = "/o/:org/billing";
const PAGE = 24;
const LEDGER_PAGE = 20;
const DAY_MS = 86_400_000;

const DONE: Record<string, string> = {
  moved: "Ledger entry added.",
  plan: "Price plan saved.",
  cleared: "The organization is billed by the install's default plan again.",
};

const MoveForm = z.object({
  kind: z.enum(["top_up", "refund", "adjustment"]),
  amount: z.string().trim().min(1, "an amount is required"),
  note: z.string().trim().min(1, "a note is required").max(1000),
});

const TopUpFormSchema = z.object({
  amount: z.string().trim().min(1, "an amount is required").max(32),
});

/** A returning payer's payment, in words (`?payment=<id>` after the return or cancel link). */
function PaymentNotice({ p, canPay }: { p: Payment; canPay: boolean }) {
  const m = money(p.amount, p.currency);
  const attrs = { "data-payment": p.id, "data-payment-status": p.status };
  switch (p.status) {
    case "captured":
      return (
        <div {...attrs}>
          <Alert kind="ok">Top-up of {m} received: the wallet is credited.</Alert>
        </div>
      );
    case "approved":
      return (
        <div {...attrs}>
          <Alert kind="info">
            PayPal holds the payment of {m}{" "}
            as pending; the wallet is credited when PayPal completes it.
          </Alert>
        </div>
      );
    case "cancelled":
      return (
        <div {...attrs}>
          <Alert kind="info">Top-up of {m} cancelled at PayPal: nothing was charged.</Alert>
        </div>
      );
    case "created":
      return (
        <div {...attrs}>
          <Alert kind="info">
            The top-up of {m} is waiting for your approval at PayPal.{" "}
            {canPay && p.approve_url && (
              <a class="btn btn-primary" href={p.approve_url} data-approve autofocus>
                Continue to PayPal
              </a>
            )}
          </Alert>
        </div>
      );
    default:
      return (
        <div {...attrs}>
          <Alert kind="error">
            The top-up of {m} did not go through{p.error ? `: ${p.error}` : ""}.
          </Alert>
        </div>
      );
  }
}

/** "Top up with PayPal": an amount in major units, then off to PayPal to approve it. */
function TopUpForm(
  { action, currency, label, form }: {
    action: string;
    currency: string;
    label: string;
    form: FormState;
  },
) {
  const f = { values: form.values, errors: form.errors, idPrefix: "topup" };
  const { min, max } = limitsOf(currency);
  return (
    <form method="post" action={action} class="card form billing-topup-form">
      <h2>Top up with {label}</h2>
      <FormAlert errors={form.errors} />
      <TextField
        name="amount"
        label={`Amount (${currency})`}
        required
        maxLength={32}
        autocomplete="off"
        placeholder={digitsOf(currency) ? "50.00" : "50"}
        hint={`From ${money(min, currency)} to ${
          money(max, currency)
        }. You approve the payment at ${label}, then come back here.`}
        {...f}
      />
      <div class="actions">
        <button class="btn btn-primary" type="submit">Start the top-up</button>
      </div>
    </form>
  );
}

/** The price plan form's fields (the service checks each again; a 400 names the field). */
export const PlanForm = z.object({
  currency: z.string().trim(),
  cpu_core_hour: z.coerce.number().int(),
  memory_gib_hour: z.coerce.number().int(),
  storage_gib_month: z.coerce.number().int(),
  egress_gib: z.coerce.number().int(),
  build_minute: z.coerce.number().int(),
});

const pageNo = (raw: string | undefined) => {
  const n = Number(raw ?? "1");
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1;
};

/** "11 h 23 min" until `ms` from `now`. */
function remaining(ms: number, now: number): string {
  const m = Math.max(0, Math.ceil((ms - now) / 60_000));
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

/** The prices of a plan, one line each. */
export function PlanSummary({ plan }: { plan: PricePlan }) {
  const m = (n: number) => money(n, plan.currency);
  return (
    <ul class="plan-prices">
      <li>CPU: {m(plan.cpu_core_hour)} per core-hour reserved</li>
      <li>Memory: {m(plan.memory_gib_hour)} per GiB-hour reserved</li>
      <li>Storage: {m(plan.storage_gib_month)} per GiB-month (not metered yet)</li>
      <li>Egress: {m(plan.egress_gib)} per GiB (not metered yet)</li>
      <li>Builds: {m(plan.build_minute)} per minute (not metered yet)</li>
    </ul>
  );
}

/** The price plan form (minor units), for the install's default or an org's own plan. */
export function PlanEditor(
  { action, plan, form, idPrefix, title, extra }: {
    action: string;
    plan: PricePlan;
    form: FormState;
    idPrefix: string;
    title: string;
    extra?: ComponentChildren;
  },
) {
  const values = form.values ??
    Object.fromEntries(Object.entries(plan).map(([k, v]) => [k, String(v)]));
  const f = { values, errors: form.errors, idPrefix };
  const price = (name: string, label: string) => (
    <TextField
      name={name}
      label={label}
      type="number"
      min={0}
      max={1_000_000_000}
      required
      {...f}
    />
  );
  return (
    <form method="post" action={action} class="card form billing-plan-form">
      <h2>{title}</h2>
      <FormAlert errors={form.errors} />
      <p class="hint">
        Prices in minor units of the currency (cents for EUR): 150 is 1.50 EUR.
      </p>
      <TextField name="currency" label="Currency" required maxLength={3} placeholder="EUR" {...f} />
      {price("cpu_core_hour", "Per CPU core-hour reserved")}
      {price("memory_gib_hour", "Per GiB-hour of memory reserved")}
      {price("storage_gib_month", "Per GiB-month of storage")}
      {price("egress_gib", "Per GiB of egress")}
      {price("build_minute", "Per build minute")}
      <div class="actions">
        <button class="btn btn-primary" type="submit">Save price plan</button>
      </div>
      {extra}
    </form>
  );
}

/** The top-up / refund / adjustment form (platform admins). */
function MoveEditor(
  { action, currency, form }: { action: string; currency: string; form: FormState },
) {
  const f = { values: form.values, errors: form.errors, idPrefix: "move" };
  return (
    <form method="post" action={action} class="card form billing-move-form">
      <h2>Top up the wallet</h2>
      <FormAlert errors={form.errors} />
      <SelectField
        name="kind"
        label="Kind"
        options={[
          { value: "top_up", label: "Top-up" },
          { value: "refund", label: "Refund" },
          { value: "adjustment", label: "Adjustment (either sign)" },
        ]}
        {...f}
      />
      <TextField
        name="amount"
        label={`Amount (${currency})`}
        required
        placeholder={digitsOf(currency) ? "50.00" : "50"}
        hint="A top-up or refund is positive; an adjustment may be negative."
        {...f}
      />
      <TextField
        name="note"
        label="Note"
        required
        maxLength={1000}
        placeholder="Invoice 2026-42"
        {...f}
      />
      <div class="actions">
        <button class="btn btn-primary" type="submit">Add to the ledger</button>
      </div>
    </form>
  );
}

interface Forms {
  move?: FormState;
  plan?: FormState;
  topup?: FormState;
}

async function billingPage(c: AppContext, forms: Forms = {}, status = 200) {
  const { org } = orgScopeOf(c);
  const { billing, apps, users, billingPayments } = c.var.services;
  const admin = principalOf(c).isAdmin;
  const { role } = orgScopeOf(c);
  // Online top-ups: only when a provider is configured, for org admins/owners (and platform admins).
  const canTopUp = billingPayments.provider !== undefined &&
    (admin || roleAtLeast(role, "admin"));
  const returning = c.req.query("payment");
  const payment = returning && /^[\w-]{1,64}$/.test(returning)
    ? await billingPayments.get(org.id, returning).catch(() => undefined)
    : undefined;
  const now = billing.now();
  const p = pageNo(c.req.query("page"));
  const lp = pageNo(c.req.query("lpage"));
  const [summary, projection, planInfo, cycles, entries, grace] = await Promise.all([
    billing.summary(org.id),
    billing.projection(org.id),
    billing.plan(org.id),
    billing.cycles(org.id, { from: 0, to: now, limit: PAGE + 1, offset: (p - 1) * PAGE }),
    billing.entries(org.id, { limit: LEDGER_PAGE + 1, offset: (lp - 1) * LEDGER_PAGE }),
    // The quotas' part of the org's grace banner (the wallet's own is below, in more detail).
    graceBanner(c, { wallet: false }),
  ]);
  const cur = summary.currency;
  const m = (n: number) => money(n, cur);
  const appIds = [
    ...new Set([
      ...cycles.slice(0, PAGE).flatMap((c) => c.items.map((i) => i.app_id).filter(Boolean)),
      ...projection.apps.map((a) => a.app_id),
    ]),
  ];
  const appNames = new Map(
    (await Promise.all(appIds.map((id) => apps.store.get(org.id, id).catch(() => undefined))))
      .filter((a) => a !== undefined).map((a) => [a.id, a.name]),
  );
  // Who moved money: a user's name (or email), not the ledger's `user:<id>`.
  const people = new Map<string, string>();
  for (const a of new Set(entries.slice(0, LEDGER_PAGE).map((e) => e.actor))) {
    if (!a.startsWith("user:")) continue;
    const u = await users.byId(a.slice(5)).catch(() => undefined);
    people.set(a, u ? u.name || u.email : "a former user");
  }
  const actorName = (a: string) => people.get(a) ?? (a === "system:billing" ? "hourly billing" : a);
  // "": the org's data outside any app (snapshots of volumes no app mounts).
  const appName = (id: string) =>
    id === "" ? "(organization)" : appNames.get(id) ?? `${id.slice(0, 8)} (deleted)`;
  const base = `/o/${org.slug}/billing`;
  const href = (q: { page?: number; lpage?: number }) => {
    const s = new URLSearchParams();
    if ((q.page ?? p) > 1) s.set("page", String(q.page ?? p));
    if ((q.lpage ?? lp) > 1) s.set("lpage", String(q.lpage ?? lp));
    return s.size ? `${base}?${s}` : base;
  };
  const csv = (days: number) =>
    `/api/v1/orgs/${encodeURIComponent(org.slug)}/billing/export.csv?from=${
      now - days * DAY_MS
    }&to=${now}`;
  const done = DONE[c.req.query("done") ?? ""];
  const w = summary.wallet;
  return render(
    c,
    <>
      <PageHeader
        title="Billing"
        sub={<>Usage is metered per hour from what Swarm runs, priced by the plan below.</>}
      />
      {grace}
      {done && <Alert kind="ok">{done}</Alert>}
      {payment && <PaymentNotice p={payment} canPay={canTopUp} />}
      {w.state === "grace" && (
        <div class="billing-grace" data-wallet="grace">
          <Alert kind="warn">
            <strong>The wallet is below zero.</strong> New deploys are blocked in{" "}
            <span data-countdown={w.ends_at}>{remaining(w.ends_at!, now)}</span> (at{" "}
            <Time ms={w.ends_at} />) unless it is topped up.
          </Alert>
        </div>
      )}
      {w.state === "blocked" && (
        <div class="billing-grace" data-wallet="blocked">
          <Alert kind="error">
            <strong>New deploys are blocked:</strong> the wallet has been below zero since{" "}
            <Time ms={w.started_at} />{" "}
            and its grace period ended. A top-up that brings it to zero or more lifts the block at
            once.
          </Alert>
        </div>
      )}
      <div class="stats billing-stats">
        <StatCard label="balance" value={m(summary.balance)} />
        <StatCard label="per hour, at what runs now" value={m(projection.per_hour)} />
        <StatCard label="per day" value={m(projection.per_day)} />
        <StatCard label="per month (730 h)" value={m(projection.per_month)} />
      </div>

      {canTopUp && (
        <TopUpForm
          action={`${base}/payments`}
          currency={cur}
          label={billingPayments.provider!.label}
          form={forms.topup ?? {}}
        />
      )}

      <section class="card">
        <h2>
          Price plan{" "}
          <span class="muted small">
            {planInfo.override ? "this organization's own" : "the install's default"}
          </span>
        </h2>
        <PlanSummary plan={planInfo.plan} />
      </section>

      <section class="billing-history">
        <h2 class="section-title">Billed hours</h2>
        <p class="row-actions">
          Export line items as CSV: <a href={csv(1)} download>last day</a> ·{" "}
          <a href={csv(30)} download>last 30 days</a> · <a href={csv(366)} download>last year</a>
        </p>
        {cycles.length
          ? (
            <div class="table-wrap">
              <table class="table-cards billing-items">
                <thead>
                  <tr>
                    <th scope="col">Hour (UTC)</th>
                    <th scope="col">App</th>
                    <th scope="col">Resource</th>
                    <th scope="col">Used</th>
                    <th scope="col" class="num">Amount</th>
                  </tr>
                </thead>
                <tbody>
                  {cycles.slice(0, PAGE).flatMap((cy) =>
                    cy.items.length
                      ? cy.items.map((i) => (
                        <tr key={`${cy.id}/${i.app_id}/${i.resource}`} data-hour={cy.hour}>
                          <td class="card-title">{hourOf(cy.hour)}</td>
                          <td data-label="App">{appName(i.app_id)}</td>
                          <td data-label="Resource">{i.resource}</td>
                          <td data-label="Used">{usedOf(i.resource, i.quantity)}</td>
                          <td data-label="Amount" class="num">{m(i.amount)}</td>
                        </tr>
                      ))
                      : [
                        <tr key={cy.id} data-hour={cy.hour}>
                          <td class="card-title">{hourOf(cy.hour)}</td>
                          <td data-label="App" colSpan={3} class="muted">nothing priced</td>
                          <td data-label="Amount" class="num">{m(0)}</td>
                        </tr>,
                      ]
                  )}
                </tbody>
              </table>
            </div>
          )
          : (
            <EmptyState title="Nothing billed yet">
              <p>Hours are billed a few minutes after they end, once apps have run.</p>
            </EmptyState>
          )}
        {(p > 1 || cycles.length > PAGE) && (
          <nav class="pager" aria-label="Billed hours pages">
            {p > 1 && <a class="btn" href={href({ page: p - 1 })}>← Newer</a>}
            {cycles.length > PAGE && (
              <a class="btn" rel="next" href={href({ page: p + 1 })}>Older →</a>
            )}
          </nav>
        )}
      </section>

      <section class="billing-ledger">
        <h2 class="section-title">Ledger</h2>
        {entries.length
          ? (
            <div class="table-wrap">
              <table class="table-cards">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Kind</th>
                    <th scope="col" class="num">Amount</th>
                    <th scope="col">By</th>
                    <th scope="col">Note</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.slice(0, LEDGER_PAGE).map((e) => (
                    <tr key={e.id} data-entry={e.kind}>
                      <td class="card-title">
                        <Time ms={e.at} />
                      </td>
                      <td data-label="Kind">{e.kind.replace("_", "-")}</td>
                      <td data-label="Amount" class="num">{money(e.amount, e.currency)}</td>
                      <td data-label="By">{actorName(e.actor)}</td>
                      <td data-label="Note">{e.note ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
          : <p class="muted">No entries yet.</p>}
        {(lp > 1 || entries.length > LEDGER_PAGE) && (
          <nav class="pager" aria-label="Ledger pages">
            {lp > 1 && <a class="btn" href={href({ lpage: lp - 1 })}>← Newer</a>}
            {entries.length > LEDGER_PAGE && (
              <a class="btn" rel="next" href={href({ lpage: lp + 1 })}>Older →</a>
            )}
          </nav>
        )}
      </section>

      {admin && (
        <div class="billing-admin">
          <MoveEditor action={`${base}/entries`} currency={cur} form={forms.move ?? {}} />
          <PlanEditor
            action={`${base}/plan`}
            plan={planInfo.plan}
            form={forms.plan ?? {}}
            idPrefix="plan"
            title="This organization's price plan"
            extra={planInfo.override && (
              <p class="hint">
                <button class="btn btn-small" type="submit" formaction={`${base}/plan/clear`}>
                  Use the install's default plan
                </button>
              </p>
            )}
          />
        </div>
      )}
    </>,
    { title: `Billing · ${org.name}`, active: "billing", status, noStore: true },
  );
}

const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace("T", " ") + "h";

/**
 * A line item's quantity in its priced unit, two decimals (display only; the bill is exact):
 * core-hours, GiB-hours of memory, GiB-hours stored (an hour of storage is 1/730 of the GiB-month
 * it is priced by: in GiB-months every line would read 0.00), GiB of egress, build minutes.
 */
function usedOf(resource: string, quantity: string): string {
  const q = BigInt(quantity);
  const [unit, label] = resource === "cpu"
    ? [CORE_HOUR, "core-h"]
    : resource === "memory"
    ? [GIB_HOUR, "GiB-h"]
    : resource === "storage"
    ? [GIB_HOUR, "GiB-h stored"]
    : resource === "egress"
    ? [GIB, "GiB"]
    : resource === "build"
    ? [1n, "min"]
    : [1n, ""];
  if (unit === 1n) return `${q} ${label}`.trim();
  const hundredths = (q * 100n + unit / 2n) / unit;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, "0")} ${label}`;
}

/** The org named in the URL, for the platform-admin forms (their policy reads no membership). */
async function orgOf(c: AppContext) {
  const org = await c.var.services.orgs.bySlug(c.req.param("org") ?? "");
  if (!org) throw notFound("organization");
  return org;
}

/** Renders the page for the org in the URL as a platform admin (no org scope set). */
async function asAdmin(c: AppContext, forms: Forms, status: number) {
  const org = await orgOf(c);
  c.set("orgScope", { org, role: "owner" });
  return await billingPage(c, forms, status);
}

/**
 * `GET /o/:org/billing` (viewers); `POST …/entries` (top-up, refund, adjustment), `POST …/plan`
 * and `POST …/plan/clear` (the org's own plan) for platform admins.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:viewer", async (c) => await billingPage(c));

  page(app, "POST", `${PATH}/entries`, "platform_admin", async (c) => {
    const org = await orgOf(c);
    const values = await readForm(c);
    const parsed = parseForm(MoveForm, values);
    if (!parsed.ok) return await asAdmin(c, { move: { values, errors: parsed.errors } }, 400);
    const { currency } = (await c.var.services.billing.plan(org.id)).plan;
    const amount = parseMoney(parsed.data.amount, currency);
    if (amount === undefined) {
      return await asAdmin(c, {
        move: { values, errors: { amount: `must be an amount like 50.00 in ${currency}` } },
      }, 400);
    }
    try {
      await c.var.services.billing.move(actionContext(c), org.id, { ...parsed.data, amount });
    } catch (err) {
      const e = formError(err);
      return await asAdmin(c, { move: { values, errors: errorsOf(e, "amount") } }, e.status);
    }
    return seeOther(c, `/o/${org.slug}/billing?done=moved`);
  });

  page(app, "POST", `${PATH}/plan`, "platform_admin", async (c) => {
    const org = await orgOf(c);
    const values = await readForm(c);
    const parsed = parseForm(PlanForm, values);
    if (!parsed.ok) return await asAdmin(c, { plan: { values, errors: parsed.errors } }, 400);
    try {
      await c.var.services.billing.setPlan(actionContext(c), org, parsed.data);
    } catch (err) {
      const e = formError(err);
      return await asAdmin(c, { plan: { values, errors: errorsOf(e, "currency") } }, e.status);
    }
    return seeOther(c, `/o/${org.slug}/billing?done=plan`);
  });

  // Online top-ups (lib/billing/payments): the form sends the payer to PayPal; PayPal sends them
  // back to `return` (capture, credit once) or `cancel`.
  page(app, "POST", `${PATH}/payments`, "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const parsed = parseForm(TopUpFormSchema, values);
    if (!parsed.ok) return await billingPage(c, { topup: { values, errors: parsed.errors } }, 400);
    const { currency } = (await c.var.services.billing.plan(org.id)).plan;
    const amount = parseMoney(parsed.data.amount, currency);
    if (amount === undefined || amount <= 0) {
      return await billingPage(c, {
        topup: { values, errors: { amount: `must be an amount like 50.00 in ${currency}` } },
      }, 400);
    }
    try {
      const r = await c.var.services.billingPayments.start(actionContext(c), org, { amount });
      // Not a redirect to PayPal: the pages' CSP has `form-action 'self'`, which browsers also
      // apply to a form's redirects. The billing page links to the approval URL instead (a plain
      // link is no form navigation), and a reload there does not start a second payment.
      return seeOther(c, `/o/${org.slug}/billing?payment=${r.payment.id}`);
    } catch (err) {
      // PayPal down (503) is shown in the form too, with the amount kept: nothing was charged.
      const e = httpErrorOf(err);
      if (!e || e.status === 401) throw err;
      const errors = e.status >= 500 ? { _form: e.message } : errorsOf(e, "amount");
      if (errors.currency) errors._form = errors.currency;
      return await billingPage(c, { topup: { values, errors } }, e.status);
    }
  });

  page(app, "GET", `${PATH}/payments/:id/return`, "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const id = c.req.param("id") ?? "";
    const token = c.req.query("token");
    try {
      await c.var.services.billingPayments.complete(actionContext(c), org.id, id, token);
    } catch (err) {
      const e = httpErrorOf(err);
      if (!e || e.status === 401 || e.status === 404) throw err;
      return await billingPage(c, { topup: { errors: { _form: e.message } } }, e.status);
    }
    return seeOther(c, `/o/${org.slug}/billing?payment=${encodeURIComponent(id)}`);
  });

  page(app, "GET", `${PATH}/payments/:id/cancel`, "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const id = c.req.param("id") ?? "";
    await c.var.services.billingPayments.cancel(actionContext(c), org.id, id);
    return seeOther(c, `/o/${org.slug}/billing?payment=${encodeURIComponent(id)}`);
  });

  page(app, "POST", `${PATH}/plan/clear`, "platform_admin", async (c) => {
    const org = await orgOf(c);
    await c.var.services.billing.clearPlan(actionContext(c), org);
    return seeOther(c, `/o/${org.slug}/billing?done=cleared`);
  });
}
