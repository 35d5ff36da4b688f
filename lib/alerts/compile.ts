/** Rules compiled for the evaluation path: thresholds in ms, scope as a predicate, metric families. */
import type { RuleRow } from "./rules.ts";
import { type RuleSpec, ruleSpecOf } from "./schema.ts";
import type { QuietHours, ThresholdSpec } from "./evaluator.ts";
import type { HostInfo } from "./facts.ts";

/** A rule ready to evaluate. */
export interface CompiledRule {
  id: string;
  orgId: string;
  name: string;
  spec: RuleSpec;
  /** Thresholds of metric rules (and data_root_size, a threshold on docker.root_bytes). */
  threshold: ThresholdSpec | null;
  /** Series the rule reads, e.g. `fs.used_pct` (every mount) or `fs.used_pct{mount=/}` (one). */
  metric: string | null;
  /** The metric names one exact series (it has a `{label=value}` part). */
  exactKey: boolean;
  /** Metric rules on each container rather than the host. */
  container: boolean;
  quiet: QuietHours | null;
  holdMs: number;
  repeatMs: number;
}

/** Compiles a stored rule. */
export function compileRule(row: RuleRow): CompiledRule {
  const spec = ruleSpecOf(row);
  const isRootSize = spec.kind === "event" && spec.event === "data_root_size";
  const metric = isRootSize ? "docker.root_bytes" : spec.metric;
  const threshold: ThresholdSpec | null = (spec.kind === "metric" || isRootSize) &&
      spec.trigger !== null
    ? {
      op: spec.op,
      trigger: spec.trigger,
      clear: spec.clear ?? spec.trigger,
      holdMs: spec.hold_s * 1000,
      mode: spec.mode,
      windowMs: spec.window_s * 1000,
    }
    : null;
  return {
    id: row.id,
    orgId: row.org_id,
    name: spec.name,
    spec,
    threshold,
    metric: threshold ? metric : null,
    exactKey: Boolean(metric?.includes("{")),
    container: spec.kind === "metric" && spec.container,
    quiet: spec.quiet_hours && {
      start: spec.quiet_hours.start_min,
      end: spec.quiet_hours.end_min,
      tzOffsetMin: spec.quiet_hours.tz_offset_min,
    },
    holdMs: spec.hold_s * 1000,
    repeatMs: spec.repeat_s * 1000,
  };
}

/** Whether a rule's scope covers a host. */
export function ruleCoversHost(r: CompiledRule, h: HostInfo): boolean {
  if (r.spec.scope === "org") return true;
  if (r.spec.scope === "host") return r.spec.scope_value === h.id;
  const v = r.spec.scope_value ?? "";
  const i = v.indexOf("=");
  return h.labels[v.slice(0, i)] === v.slice(i + 1);
}

/** Whether a metric rule reads a series key; the family form matches every label value. */
export function ruleReadsKey(r: CompiledRule, key: string, family: string): boolean {
  return r.metric === key || (!r.exactKey && r.metric === family);
}
