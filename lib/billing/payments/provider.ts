/**
 * What the wallet asks of a payment provider (lib/billing/BILLING.md "Top-ups through a payment
 * provider"): make a checkout for an org's top-up, capture it once the payer approved, and turn a
 * provider's webhook into a fact about a capture. Amounts cross this interface as integer minor
 * units with a currency code; the provider converts them to its own wire format. Nothing here
 * knows the ledger or the wallet, and nothing there knows a provider.
 */

/** A top-up to make a checkout for. */
export interface CheckoutRequest {
  /** Capstan's payment id: ties the provider's order (and its captures) back to the row. */
  paymentId: string;
  /** Minor units of `currency` (Capstan's decimals for it: components/money.ts digitsOf). */
  amount: number;
  currency: string;
  /** What the payer sees ("Capstan wallet top-up for acme"). */
  description: string;
  /** Where the provider sends the payer back after approving, and after cancelling. */
  returnUrl: string;
  cancelUrl: string;
}

/** A checkout made: the provider's order id and the URL the payer approves it at. */
export interface Checkout {
  orderId: string;
  approveUrl: string;
}

/**
 * What became of a capture. `completed`: the money is taken (credit it, once); `pending`: the
 * provider holds it (a later webhook says completed or denied); `denied`: no money moved;
 * `refunded`: money went back to the payer (debit it, once).
 */
export type CaptureFact =
  | {
    kind: "completed" | "pending" | "denied";
    orderId?: string;
    captureId: string;
    /** Capstan's payment id as the provider echoed it back (custom_id), when it did. */
    paymentId?: string;
    amount: number;
    currency: string;
  }
  | {
    kind: "refunded";
    refundId: string;
    captureId: string;
    paymentId?: string;
    amount: number;
    currency: string;
  };

/** A verified webhook: a fact about a capture, or an event this hub does not act on. */
export type WebhookFact =
  | { kind: "capture"; eventId: string; eventType: string; fact: CaptureFact }
  | { kind: "ignored"; eventId: string; eventType: string };

/** A payment provider (one implementation: PayPal Orders v2, paypal.ts). */
export interface PaymentProvider {
  /** "paypal": stored on each payment row. */
  readonly name: string;
  /** A label for pages ("PayPal"). */
  readonly label: string;
  /** Why this currency cannot be paid here (unsupported, or decimals it refuses), or undefined. */
  refuses(
    amount: number,
    currency: string,
  ): { field: "amount" | "currency"; why: string } | undefined;
  /** Makes the checkout; idempotent per `paymentId` at the provider. */
  createCheckout(req: CheckoutRequest): Promise<Checkout>;
  /**
   * Captures an approved order (idempotent per payment id at the provider; an order already
   * captured answers its existing capture). `currency` is the payment's, to read amounts in.
   */
  capture(orderId: string, paymentId: string, currency: string): Promise<CaptureFact>;
  /**
   * Verifies a webhook delivery with the provider and parses it. Throws WebhookRefused when the
   * signature does not verify or the body is not the provider's; PaymentProviderError when the
   * provider cannot be asked (the sender retries later).
   */
  verifyWebhook(headers: Headers, rawBody: string): Promise<WebhookFact>;
}

/** The provider could not be reached or answered an error: nothing was decided, retry later. */
export class PaymentProviderError extends Error {
  constructor(message: string, readonly status?: number, readonly issue?: string) {
    super(message);
    this.name = "PaymentProviderError";
  }
}

/** A webhook whose signature did not verify, or that is not the provider's shape. */
export class WebhookRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookRefused";
  }
}

/**
 * Integer minor units (with `digits` decimals) → a decimal string, by string arithmetic only:
 * (1050, 2) → "10.50", (7, 2) → "0.07", (500, 0) → "500". Never a float.
 */
export function minorToDecimal(minor: number, digits: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`bad amount ${minor}`);
  const s = String(minor).padStart(digits + 1, "0");
  return digits ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
}

/**
 * A provider's decimal string → integer minor units with `digits` decimals, or undefined when it
 * is not one (more decimals than `digits`, a sign, an exponent, more than 15 digits).
 */
export function decimalToMinor(value: string, digits: number): number | undefined {
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const frac = (m[2] ?? "").replace(/0+$/, "");
  if (frac.length > digits) return undefined;
  const n = Number(m[1] + frac.padEnd(digits, "0"));
  return Number.isSafeInteger(n) ? n : undefined;
}
