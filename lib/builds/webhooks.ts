/**
 * Push-to-deploy webhooks: which Git host sent a delivery, whether its signature holds on the raw
 * bytes, and what the verified payload asks for. The HTTP endpoint calls, in this order:
 * `detectProvider` (or the provider fixed for the app), `verifyDelivery` on the unparsed body,
 * `deliveryMeta` for the id to de-duplicate on and the event, then `JSON.parse` and
 * `parseDelivery`. Pure code: no I/O, no clock, no logging of secrets.
 */
export { deliveryMeta, detectProvider, type Provider, PROVIDERS } from "./webhooks/providers.ts";
export { verifyDelivery, type VerifyRefusal, type VerifyResult } from "./webhooks/verify.ts";
export {
  MAX_AUTHOR,
  MAX_MESSAGE,
  type NormalizedDelivery,
  parseDelivery,
} from "./webhooks/payloads.ts";
