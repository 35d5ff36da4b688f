/**
 * The topology's realtime topic: `org:<orgId>:topology` carries an organization's patches;
 * `org:install:topology` (INSTALL_ID, lib/realtime/topics.ts) carries the whole install's, which
 * only platform admins signed in with a session may read (lib/realtime/access.ts).
 */
import { INSTALL_ID, orgTopic, type Topic } from "../realtime/topics.ts";
import type { TopologyPatch } from "./graph.ts";

/** An organization's topology patches; viewers and up may read them. */
export const topologyTopic = orgTopic<TopologyPatch>("topology", "viewer");

/** The scope of a graph: one organization, or the whole install (platform admins). */
export type TopologyScope = { kind: "org"; orgId: string } | { kind: "install" };

/** The scope's key (also its topic's owner id). */
export function scopeKey(scope: TopologyScope): string {
  return scope.kind === "org" ? scope.orgId : INSTALL_ID;
}

/** The topic a scope's patches go to. */
export function scopeTopic(scope: TopologyScope): Topic<TopologyPatch> {
  return topologyTopic(scopeKey(scope));
}
