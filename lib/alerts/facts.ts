/**
 * What alerts need to know of other modules, as one narrow interface the composition root wires
 * (lib/alerts/module.ts, to the hosts, metrics and orgs modules): alerts never read those modules'
 * tables, so they can change their storage without touching the alert engine.
 */
import type { HostFacts } from "../hosts/facts.ts";

/** A host as rules see it: identity, labels (label scopes) and agent times (host offline). */
export type HostInfo = HostFacts;

/** Facts alerts read from other modules. */
export interface AlertFacts {
  /** A live host's facts, or undefined once it is removed (or never existed). */
  host(hostId: string): Promise<HostInfo | undefined>;
  /** Every live host whose agent has enrolled (the periodic host-offline check). */
  enrolledHosts(): Promise<HostInfo[]>;
  /** A container's name in its host's container cache, or undefined when it is not there. */
  containerName(hostId: string, containerId: string): Promise<string | undefined>;
  /** An organization's slug (messages and links name it), or undefined when it is gone. */
  orgSlug(orgId: string): Promise<string | undefined>;
  /** Hub time of each host's last metrics report received after `since`. */
  lastReports(since: number): Promise<Map<string, number>>;
  /** Series keys (at most `limit`) the organization's hosts have sent, and whose each is. */
  seriesSeen(orgId: string, limit: number): Promise<{ key: string; container: boolean }[]>;
}
