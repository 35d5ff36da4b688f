/**
 * How a compose service runs on Swarm: `deploy` (replicas, mode, resources, restart and update
 * policies, placement, labels), the older `restart`, and `healthcheck`. Health check timings
 * the file leaves out take Docker's defaults (30 s interval and timeout, 3 retries), which the
 * file was written against, rather than Capstan's shorter ones.
 */
import type { z } from "zod";
import type { ServiceSpec } from "../apps/spec.ts";
import { dropUndefined, type Field, isExtension, type Reader, type SpecPath } from "./reader.ts";

export type ServiceInput = z.input<typeof ServiceSpec>;
/** A spec path inside the service being converted. */
export type At = (...p: SpecPath) => SpecPath;

/** CPU and memory limits and reservations, as the spec writes them. */
export interface Resources {
  limits: { cpus?: number; memory_bytes?: number };
  reservations: { cpus?: number; memory_bytes?: number };
}

/** What `deploy` sets. */
export interface Deployed {
  replicas?: number;
  global?: boolean;
  restart?: ServiceInput["restart"];
  update?: ServiceInput["update"];
  placement?: ServiceInput["placement"];
  labels: Record<string, string>;
}

/** Sets a resource once: `cpus`/`mem_limit` and `deploy.resources` must not both set it. */
export function setResource(
  r: Reader,
  f: Field,
  slot: Resources["limits"],
  key: "cpus" | "memory_bytes",
  value: number | undefined,
) {
  if (value === undefined) return;
  if (slot[key] !== undefined) {
    r.problem(
      "invalid",
      f,
      "is set twice: by cpus, mem_limit or mem_reservation and by deploy.resources",
    );
    return;
  }
  slot[key] = value;
}

/** Labels as a mapping or a `key=value` list; `capstan.*` ones are refused. */
export function readLabels(r: Reader, f: Field, at: At): Record<string, string> {
  const labels: [string, string][] = [];
  r.mark(at("labels"), f);
  for (const { key, field, value } of r.pairs(f)) {
    r.mark(at("labels", key), field);
    if (key.startsWith("capstan.")) {
      r.problem("refused", field, "capstan.* labels are Capstan's own");
      continue;
    }
    labels.push([key, value ?? ""]);
  }
  // fromEntries defines every key as its own, `__proto__` too.
  return Object.fromEntries(labels);
}

/** The `deploy` section. */
export function readDeploy(r: Reader, f: Field, at: At, resources: Resources): Deployed {
  const out: Deployed = { labels: {} };
  for (const e of r.entries(f)) {
    switch (e.key) {
      case "mode": {
        const mode = r.text(e);
        if (mode === "global") out.global = true;
        else if (mode !== undefined && mode !== "replicated") {
          r.problem("unsupported", e, `mode ${mode} is not supported (replicated or global)`);
        }
        r.mark(at("global"), e);
        break;
      }
      case "replicas":
        out.replicas = r.integer(e);
        r.mark(at("replicas"), e);
        break;
      case "resources":
        readResources(r, e, at, resources);
        break;
      case "restart_policy":
        out.restart = readRestartPolicy(r, e, at);
        break;
      case "update_config":
        out.update = readUpdateConfig(r, e, at);
        break;
      case "placement":
        out.placement = readPlacement(r, e, at);
        break;
      case "labels":
        out.labels = readLabels(r, e, at);
        break;
      case "rollback_config":
        r.note(e, "rollback_config is ignored: Capstan rolls back one task at a time");
        break;
      case "endpoint_mode":
        r.note(e, "endpoint_mode is ignored: Capstan chooses it by the cluster");
        break;
      default:
        if (!isExtension(e.key)) r.problem("unsupported", e, `deploy.${e.key} is not supported`);
    }
  }
  return out;
}

function readResources(r: Reader, f: Field, at: At, out: Resources) {
  for (const e of r.entries(f)) {
    const kind = e.key;
    if (kind !== "limits" && kind !== "reservations") {
      if (!isExtension(kind)) {
        r.problem("unsupported", e, `${kind} is not supported for resources`);
      }
      continue;
    }
    for (const v of r.entries(e)) {
      if (v.key === "cpus") {
        setResource(r, v, out[kind], "cpus", r.number(v));
        r.mark(at("resources", kind, "cpus"), v);
      } else if (v.key === "memory") {
        setResource(r, v, out[kind], "memory_bytes", r.bytes(v));
        r.mark(at("resources", kind, "memory_bytes"), v);
      } else if (v.key === "devices" || v.key === "generic_resources") {
        r.problem("unsupported", v, "devices and generic resources (GPUs) are not supported");
      } else if (!isExtension(v.key)) {
        r.problem("unsupported", v, `${v.key} is not supported for resources`);
      }
    }
  }
}

/** The older `restart:` (no, always, on-failure[:N], unless-stopped). */
export function readRestart(r: Reader, f: Field): ServiceInput["restart"] {
  const t = r.text(f);
  if (t === undefined) return undefined;
  if (t === "no") return { condition: "none" };
  if (t === "always" || t === "unless-stopped") return { condition: "any" };
  const m = /^on-failure(?::(\d+))?$/.exec(t);
  if (m) {
    return dropUndefined({
      condition: "on-failure" as const,
      max_attempts: m[1] ? Number(m[1]) : undefined,
    });
  }
  r.valueProblem("invalid", f, `restart ${t} is not one of no, always, on-failure, unless-stopped`);
  return undefined;
}

function readRestartPolicy(r: Reader, f: Field, at: At): ServiceInput["restart"] {
  r.mark(at("restart"), f);
  const out: NonNullable<ServiceInput["restart"]> = {};
  for (const e of r.entries(f)) {
    switch (e.key) {
      case "condition": {
        const c = r.text(e);
        if (c === "none" || c === "on-failure" || c === "any") out.condition = c;
        else if (c !== undefined) {
          r.valueProblem("invalid", e, "condition must be none, on-failure or any");
        }
        break;
      }
      case "delay":
        out.delay_s = r.duration(e);
        r.mark(at("restart", "delay_s"), e);
        break;
      case "max_attempts":
        out.max_attempts = r.integer(e);
        r.mark(at("restart", "max_attempts"), e);
        break;
      case "window":
        r.note(e, "window is ignored");
        break;
      default:
        if (!isExtension(e.key)) {
          r.problem("unsupported", e, `${e.key} is not supported for restart_policy`);
        }
    }
  }
  return dropUndefined(out);
}

const UPDATE_FIELDS: Record<string, string> = {
  parallelism: "parallelism",
  delay: "delay_s",
  failure_action: "failure_action",
  monitor: "monitor_s",
  max_failure_ratio: "max_failure_ratio",
  order: "order",
};

function readUpdateConfig(r: Reader, f: Field, at: At): ServiceInput["update"] {
  const out: Record<string, unknown> = {};
  for (const e of r.entries(f)) {
    const target = Object.hasOwn(UPDATE_FIELDS, e.key) ? UPDATE_FIELDS[e.key] : undefined;
    if (!target) {
      if (!isExtension(e.key)) {
        r.problem("unsupported", e, `${e.key} is not supported for update_config`);
      }
      continue;
    }
    r.mark(at("update", target), e);
    if (e.key === "delay" || e.key === "monitor") out[target] = r.duration(e);
    else if (e.key === "parallelism") out[target] = r.integer(e);
    else if (e.key === "max_failure_ratio") out[target] = r.number(e);
    else out[target] = r.text(e);
  }
  return dropUndefined(out) as ServiceInput["update"];
}

function readPlacement(r: Reader, f: Field, at: At): ServiceInput["placement"] {
  const out: NonNullable<ServiceInput["placement"]> = {};
  for (const e of r.entries(f)) {
    if (e.key === "constraints") {
      const constraints: string[] = [];
      for (const c of r.list(e) ?? []) {
        const t = r.text(c);
        if (t === undefined) continue;
        r.mark(at("placement", "constraints", constraints.length), c);
        constraints.push(t);
      }
      out.constraints = constraints;
    } else if (e.key === "max_replicas_per_node") {
      out.max_replicas_per_node = r.integer(e);
      r.mark(at("placement", "max_replicas_per_node"), e);
    } else if (e.key === "preferences") {
      r.problem("unsupported", e, "placement preferences are not supported");
    } else if (!isExtension(e.key)) {
      r.problem("unsupported", e, `${e.key} is not supported for placement`);
    }
  }
  return dropUndefined(out);
}

/** The `healthcheck` section; undefined when disabled or when it gives no test. */
export function readHealthcheck(r: Reader, f: Field, at: At): ServiceInput["health_check"] {
  r.mark(at("health_check"), f);
  let cmd: string[] | undefined;
  let disabled = false;
  let hasTest = false;
  // Docker's defaults, which the file was written against.
  const timing = { interval_s: 30, timeout_s: 30, retries: 3, start_period_s: 0 };
  for (const e of r.entries(f)) {
    switch (e.key) {
      case "test":
        hasTest = true;
        r.mark(at("health_check", "cmd"), e);
        cmd = readHealthTest(r, e);
        if (cmd?.length === 0) disabled = true;
        break;
      case "disable":
        if (r.boolean(e)) disabled = true;
        break;
      case "interval":
      case "timeout":
      case "start_period": {
        const key = `${e.key}_s` as "interval_s" | "timeout_s" | "start_period_s";
        const d = r.duration(e);
        if (d !== undefined) timing[key] = d;
        r.mark(at("health_check", key), e);
        break;
      }
      case "retries": {
        const n = r.integer(e);
        if (n !== undefined) timing.retries = n;
        r.mark(at("health_check", "retries"), e);
        break;
      }
      case "start_interval":
        r.note(e, "start_interval is ignored");
        break;
      default:
        if (!isExtension(e.key)) {
          r.problem("unsupported", e, `${e.key} is not supported for health checks`);
        }
    }
  }
  if (disabled) return undefined;
  if (!hasTest) {
    r.note(
      f,
      "a health check without test is left out: the image's own health check applies, with its timings",
    );
    return undefined;
  }
  return cmd ? { cmd, ...timing } : undefined;
}

/**
 * The health check's argv; [] when it is disabled (`NONE`). `CMD-SHELL` and the string form
 * run in the image's shell, as Docker runs them: the file asks for that shell explicitly.
 */
function readHealthTest(r: Reader, f: Field): string[] | undefined {
  if (f.node.kind !== "seq") {
    const t = r.text(f);
    if (t === undefined) return undefined;
    if (t.trim() === "") {
      r.valueProblem("invalid", f, "the test is empty");
      return undefined;
    }
    return ["sh", "-c", t];
  }
  const parts = (r.list(f) ?? []).map((p) => r.text(p));
  if (parts.some((p) => p === undefined)) return undefined;
  const [kind, ...rest] = parts as string[];
  if (kind === "NONE") return [];
  if (kind === "CMD" && rest.length) return rest;
  if (kind === "CMD-SHELL" && rest.length) return ["sh", "-c", rest.join(" ")];
  r.valueProblem(
    "invalid",
    f,
    'the test must start with "CMD", "CMD-SHELL" or "NONE" and give a command',
  );
  return undefined;
}
