/**
 * The hot path: metric batches are evaluated right after they commit. Each host has a plan
 * (series key → the rules and subject states that read it), so a sample costs one map lookup per
 * series plus a few comparisons per matching rule, in memory; only a firing or a resolution
 * becomes work for the worker.
 */
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../log.ts";
import type { MetricsBatch } from "../../protocol/metrics.ts";
import { step, type Transition } from "../evaluator.ts";
import { ruleReadsKey } from "../compile.ts";
import { alertTitle, firingDetail } from "../describe.ts";
import { type Entry, type HostPlan, type OrgState, PLAN_TTL_MS, type StateCache } from "./cache.ts";
import type { Op } from "./worker.ts";
import { snapOf } from "./subject.ts";

/** Samples stamped this far ahead of the hub's clock are skipped (the store refuses them too). */
const MAX_FUTURE_MS = 5 * 60_000;

/** Creates the batch evaluator; `hostBack` ends a host's offline alert when it reports again. */
export function createEvaluator(deps: {
  clock: Clock;
  log: Logger;
  cache: StateCache;
  enqueue(op: Op): void;
  hostBack(org: OrgState, hostId: string): Promise<void>;
}) {
  const { clock, log, cache, enqueue } = deps;
  /** Batches of hosts whose plan is being built, kept in arrival order. */
  const waiting = new Map<string, MetricsBatch[]>();

  function entriesForKey(org: OrgState, plan: HostPlan, key: string): Entry[] {
    const brace = key.indexOf("{");
    const family = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? "" : key.slice(brace);
    const out = plan.metric.filter((r) => ruleReadsKey(r, key, family)).map((rule) => ({
      rule,
      subj: cache.subjectOf(org, rule, plan.host.id + labels, plan.host.id),
    }));
    plan.byKey.set(key, out);
    return out;
  }

  function entriesForContainer(org: OrgState, plan: HostPlan, id: string, key: string, ck: string) {
    const brace = key.indexOf("{");
    const family = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? "" : key.slice(brace);
    const out = plan.container.filter((r) => ruleReadsKey(r, key, family)).map((rule) => ({
      rule,
      subj: cache.subjectOf(org, rule, `${plan.host.id}/${id}${labels}`, plan.host.id, id),
    }));
    plan.byCtr.set(ck, out);
    return out;
  }

  function evaluate(org: OrgState, plan: HostPlan, batch: MetricsBatch) {
    if (org.offline.has(plan.host.id)) {
      enqueue({
        kind: "task",
        run: () => deps.hostBack(org, plan.host.id),
      });
    }
    if (!plan.metric.length && !plan.container.length) return;
    const horizon = clock.now() + MAX_FUTURE_MS;
    for (const s of batch.samples) {
      if (s.t > horizon) continue;
      if (plan.metric.length) {
        const values = s.host;
        for (const key in values) {
          const es = plan.byKey.get(key) ?? entriesForKey(org, plan, key);
          for (let i = 0; i < es.length; i++) {
            const tr = step(es[i].rule.threshold!, es[i].subj, s.t, values[key]);
            if (tr) onTransition(org, plan, es[i], tr, key);
          }
        }
      }
      if (s.containers && plan.container.length) {
        for (const id in s.containers) {
          const values = s.containers[id];
          for (const key in values) {
            const ck = id + "\u0000" + key;
            const es = plan.byCtr.get(ck) ?? entriesForContainer(org, plan, id, key, ck);
            for (let i = 0; i < es.length; i++) {
              const tr = step(es[i].rule.threshold!, es[i].subj, s.t, values[key]);
              if (tr) onTransition(org, plan, es[i], tr, key);
            }
          }
        }
      }
    }
  }

  function onTransition(org: OrgState, plan: HostPlan, e: Entry, tr: Transition, key: string) {
    const { subj, rule } = e;
    // A metric hold is not persisted: it restarts after a hub restart anyway (sample history is
    // memory only), and writing every crossing of a noisy series would cost the ingest path.
    if (tr === "pending" || tr === "recovered") return;
    if (tr === "resolved") return enqueue({ kind: "resolve", org, subj, snap: snapOf(subj) });
    const brace = key.indexOf("{");
    const labels = brace < 0 ? "" : key.slice(brace);
    const value = subj.value;
    const hostName = plan.host.name;
    const ctrId = subj.containerId;
    enqueue({
      kind: "fire",
      org,
      subj,
      snap: snapOf(subj),
      // The container's name is looked up off the hot path, when the worker gets to it.
      info: async () => {
        const containerName = ctrId ? await cache.containerName(plan.host.id, ctrId) : null;
        return {
          hostName,
          containerName,
          title: alertTitle(rule, hostName, containerName, labels),
          detail: firingDetail(rule, { value, key }),
        };
      },
    });
  }

  /** Evaluates a committed batch; called by metrics ingest. Cheap, synchronous, never throws. */
  function onBatch(host: { id: string; org_id: string }, batch: MetricsBatch): void {
    try {
      cache.lastReport.set(host.id, clock.now());
      const org = cache.orgs.get(host.org_id);
      const plan = org?.plans.get(host.id);
      if (org && plan && !waiting.has(host.id)) {
        if (clock.now() - plan.fetchedAt >= PLAN_TTL_MS) cache.refreshPlan(org, host.id);
        evaluate(org, plan, batch);
        return;
      }
      // First batch of a host (or of an organization) since start: build its plan, then evaluate
      // this and any batch that arrives meanwhile in order.
      const queued = waiting.get(host.id);
      if (queued) return void queued.push(batch);
      const q = [batch];
      waiting.set(host.id, q);
      (async () => {
        try {
          const o = await cache.loadOrg(host.org_id);
          const p = await cache.planFor(o, host.id);
          while (q.length) {
            const b = q.shift()!;
            if (p) evaluate(o, p, b);
          }
        } catch (err) {
          log.error("alerts: cannot prepare host", { hostId: host.id, error: String(err) });
        } finally {
          waiting.delete(host.id);
        }
      })();
    } catch (err) {
      log.error("alerts: evaluation failed", { hostId: host.id, error: String(err) });
    }
  }

  return {
    onBatch,
    /** Whether a batch is waiting for its host's plan (`idle` waits for none). */
    busy: () => waiting.size > 0,
  };
}
