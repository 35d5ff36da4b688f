/**
 * For the rule kinds' tests: the engine's real transitions and state cache over one organization
 * held in memory, with the ops they queue collected instead of run (no database, no worker).
 */
import { silentLogger } from "../../log.ts";
import type { RuleRow, RuleStore } from "../rules.ts";
import type { StateStore } from "../state_store.ts";
import assert from "node:assert/strict";
import { type EventType, normalizeRule, ruleColumns, type RuleFields } from "../schema.ts";
import { type CompiledRule, compileRule } from "../compile.ts";
import type { FireInfo } from "../describe.ts";
import type { HostInfo } from "../facts.ts";
import { createStateCache, type OrgState } from "../engine/cache.ts";
import { createTransitions } from "../engine/transitions.ts";
import type { Op } from "../engine/worker.ts";
import { type ContainerEvent, type ContainerEventFacts, containerEventFacts } from "./kind.ts";

/** The host the tests' events come from. */
export const HOST: HostInfo = {
  id: "h1",
  org_id: "o1",
  name: "web-1",
  labels: {},
  enrolled_at: 0,
  last_seen_at: 0,
};

/** A 64-hex container id. */
export const CTR = "c".repeat(64);

/** Hub time the tests start at. */
export const T0 = Date.UTC(2026, 0, 1, 12);

/** A compiled rule from API-style fields (defaults filled in as on create). */
export function rule(fields: RuleFields, id = "r1"): CompiledRule {
  const row: RuleRow = {
    id,
    org_id: HOST.org_id,
    ...ruleColumns(normalizeRule(fields)),
    created_at: T0,
    updated_at: T0,
  };
  return compileRule(row);
}

/** A container event of the test container, settled state included. */
export function event(
  action: string,
  o: { state?: string; status?: string; at?: number } = {},
): ContainerEventFacts {
  const e: ContainerEvent = {
    type: "container",
    action,
    id: CTR,
    time_nano: (o.at ?? T0) * 1e6,
    container: { name: "/api", state: o.state ?? "running", status: o.status ?? "Up 1 minute" },
  };
  return containerEventFacts(HOST, e);
}

/** Asserts that a rule of `event` with a host or label scope is refused, naming the scope. */
export function assertOrgOnly(event: EventType): void {
  for (
    const scope of [{ scope: "host", scope_value: "h1" }, { scope: "label", scope_value: "a=b" }]
  ) {
    assert.throws(
      () => rule({ name: "R", kind: "event", event, ...scope } as RuleFields),
      (e: Error & { fields?: Record<string, string> }) =>
        (e.fields?.scope ?? "").startsWith(`must be org for ${event}:`),
    );
  }
}

/** One organization with `rules`, its contexts at chosen times, and the ops they queued. */
export function harness(rules: CompiledRule[]) {
  let now = T0;
  const clock = { now: () => now };
  const cache = createStateCache({
    clock,
    log: silentLogger,
    rules: {} as RuleStore,
    states: {} as StateStore,
    facts: {
      host: () => Promise.resolve(HOST),
      containerName: () => Promise.resolve(undefined),
      orgSlug: () => Promise.resolve("acme"),
    },
    isOnline: () => false,
  });
  const org: OrgState = {
    id: HOST.org_id,
    slug: "acme",
    rules,
    byId: new Map(rules.map((r) => [r.id, r])),
    subjects: new Map(),
    plans: new Map(),
    offline: new Set(),
  };
  const ops: Op[] = [];
  const transitions = createTransitions({ clock, cache, enqueue: (op) => void ops.push(op) });
  return {
    org,
    ops,
    /** The kinds' context at hub time `t` (the clock moves there too). */
    at(t: number) {
      now = t;
      return transitions.contextFor(org, t);
    },
    /** The queued ops so far as `kind subject state value`, and forgets them. */
    take(): string[] {
      const out = ops.map((op) =>
        op.kind === "task"
          ? "task"
          : `${op.kind} ${op.subj.subject} ${"snap" in op ? op.snap.state : ""} ${
            "snap" in op ? op.snap.value : ""
          }`.trim()
      );
      ops.length = 0;
      return out;
    },
  };
}

/** The info of the last fire or instant op queued, worked out when it is a lookup. */
export async function lastInfo(ops: Op[]): Promise<FireInfo | undefined> {
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i];
    if (op.kind === "fire" || op.kind === "instant") {
      return typeof op.info === "function" ? await op.info() : op.info;
    }
  }
  return undefined;
}
