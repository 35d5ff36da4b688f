/**
 * Between the rule form (strings, one checkbox per channel) and the API's rule fields: values for
 * an edit form, form → `RuleFields`, and the API's field errors back onto the form's inputs.
 */
import type { RuleFields } from "../../../../lib/alerts/schema.ts";
import type { RuleView } from "../../../../lib/alerts/rules.ts";
import type { FieldErrors, FormValues } from "../../../_forms.ts";

const hhmm = (min: number) =>
  `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;

/** Form values of a stored rule. */
export function ruleFormValues(r: RuleView): FormValues {
  const v: FormValues = {
    name: r.name,
    scope: r.scope,
    scope_host: r.scope === "host" ? r.scope_value ?? "" : "",
    scope_label: r.scope === "label" ? r.scope_value ?? "" : "",
    metric: r.metric ?? "",
    op: r.op,
    trigger: r.trigger === null ? "" : String(r.trigger),
    clear: r.clear === null ? "" : String(r.clear),
    mode: r.mode,
    hold_s: String(r.hold_s),
    window_s: String(r.window_s),
    event: r.event ?? "",
    event_count: r.event_count === null ? "" : String(r.event_count),
    event_window_s: r.event_window_s === null ? "" : String(r.event_window_s),
    severity: r.severity,
    repeat_s: String(r.repeat_s),
    quiet_start: r.quiet_hours ? hhmm(r.quiet_hours.start_min) : "",
    quiet_end: r.quiet_hours ? hhmm(r.quiet_hours.end_min) : "",
    quiet_tz_offset: r.quiet_hours ? String(r.quiet_hours.tz_offset_min) : "",
  };
  if (r.enabled) v.enabled = "on";
  if (r.container) v.container = "on";
  if (r.channels === "all") v.channels_all = "on";
  else for (const id of r.channels) v[`ch_${id}`] = "on";
  return v;
}

/** Values of a new rule of `kind`. */
export function newRuleValues(kind: "metric" | "event", eventType = "host_offline"): FormValues {
  return kind === "metric"
    ? {
      enabled: "on",
      scope: "org",
      op: ">",
      mode: "instant",
      hold_s: "300",
      window_s: "60",
      severity: "warning",
      repeat_s: "3600",
      channels_all: "on",
    }
    : {
      enabled: "on",
      scope: "org",
      event: eventType,
      hold_s: "120",
      severity: "warning",
      repeat_s: "3600",
      channels_all: "on",
    };
}

/** Form → rule fields; blank numbers are absent (defaults apply), bad ones are field errors. */
export function ruleInput(
  v: FormValues,
): { ok: true; data: RuleFields } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const num = (k: string, int = true): number | undefined => {
    const s = (v[k] ?? "").trim();
    if (s === "") return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) {
      errors[k] = int ? "must be a whole number" : "must be a number";
      return undefined;
    }
    return n;
  };
  const minutes = (k: string): number | undefined => {
    const s = (v[k] ?? "").trim();
    if (s === "") return undefined;
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(s);
    if (!m) {
      errors[k] = "must be a time like 22:00";
      return undefined;
    }
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const kind = v.kind === "event" ? "event" : "metric";
  const scope = v.scope === "host" || v.scope === "label" ? v.scope : "org";
  const data: RuleFields = {
    name: v.name ?? "",
    kind,
    enabled: v.enabled === "on",
    scope,
    scope_value: scope === "host"
      ? v.scope_host || null
      : scope === "label"
      ? v.scope_label?.trim() || null
      : null,
    severity: v.severity === "critical" ? "critical" : "warning",
    hold_s: num("hold_s"),
    repeat_s: num("repeat_s"),
    trigger: num("trigger", false) ?? null,
  };
  if (kind === "metric") {
    data.metric = v.metric?.trim() || null;
    data.container = v.container === "on";
    data.op = v.op === "<" ? "<" : ">";
    data.clear = num("clear", false) ?? null;
    data.mode = v.mode === "avg" ? "avg" : "instant";
    data.window_s = num("window_s");
  } else {
    data.event = (v.event || null) as RuleFields["event"];
    data.event_count = num("event_count") ?? null;
    data.event_window_s = num("event_window_s") ?? null;
  }
  const qs = minutes("quiet_start");
  const qe = minutes("quiet_end");
  if ((qs === undefined) !== (qe === undefined) && !errors.quiet_start && !errors.quiet_end) {
    errors[qs === undefined ? "quiet_start" : "quiet_end"] = "is required with the other end";
  }
  data.quiet_hours = qs !== undefined && qe !== undefined
    ? { start_min: qs, end_min: qe, tz_offset_min: num("quiet_tz_offset") ?? 0 }
    : null;
  if (v.channels_all === "on") data.channels = "all";
  else {
    data.channels = Object.keys(v).filter((k) => k.startsWith("ch_") && v[k] === "on")
      .map((k) => k.slice(3));
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, data };
}

/** The API's field names → the form's inputs (scope_value is one of two, quiet hours one of three). */
export function formErrors(fields: FieldErrors, v: FormValues): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, msg] of Object.entries(fields)) {
    let key = k;
    if (k === "scope_value") key = v.scope === "host" ? "scope_host" : "scope_label";
    else if (k.startsWith("quiet_hours")) {
      key = k.endsWith("end_min")
        ? "quiet_end"
        : k.endsWith("tz_offset_min")
        ? "quiet_tz_offset"
        : "quiet_start";
    } else if (k.startsWith("channels")) key = "channels";
    out[key] ??= msg;
  }
  return out;
}
