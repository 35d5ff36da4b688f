/**
 * What the proxy module tells other modules (lib/events.ts): a hostname's certificate changed
 * state (read by a TLS handshake with the ingress). The alerts module listens: a certificate that
 * expires within 14 days or failed raises an alert until it is active again. `proxy.route_changed`:
 * a route was created, changed or removed and the ingress was asked to load it (the topology
 * listens).
 */
import type { TlsState } from "./tables.ts";

/** A hostname's certificate moved to `state`. */
export interface CertificateChange {
  org_id: string;
  route_id: string;
  hostname: string;
  state: TlsState;
  detail: string | null;
  /** The served certificate's end of validity, when one was read. */
  not_after: number | null;
}

declare module "../events.ts" {
  interface DomainEvents {
    "proxy.certificate": CertificateChange;
    "proxy.route_changed": { org_id: string; route_id: string };
  }
}
