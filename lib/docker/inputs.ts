/**
 * Checks of the values the engine would otherwise trust, shared by the resource modules: argument
 * arrays (never a shell line), environment lists, ports, sizes, paths and health checks. Each
 * failure is a DockerInputError naming the field.
 */

import { DockerInputError } from "./validate.ts";

const ENV_KEY_RE = /^[^=\0]+$/;
/** An IPv4 or IPv6 address, loosely (the engine parses it). */
export const IP_RE = /^[0-9a-fA-F.:]{2,45}$/;
/** An address range in CIDR notation, loosely. */
export const CIDR_RE = /^[0-9a-fA-F.:]{2,45}\/[0-9]{1,3}$/;
/** A network or volume driver name. */
export const DRIVER_RE = /^[a-zA-Z0-9][a-zA-Z0-9_./:-]{0,127}$/;

/** A container health check as the engine runs it; durations in milliseconds. */
export interface HealthcheckSpec {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

/** Docker's `KEY=value` environment list, validated. */
export function envList(env: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env ?? {})) {
    if (!ENV_KEY_RE.test(k)) {
      throw new DockerInputError("env", `Invalid env name ${JSON.stringify(k)}`);
    }
    if (typeof v !== "string" || v.includes("\0")) {
      throw new DockerInputError("env", `Invalid value for env ${k}`);
    }
    out.push(`${k}=${v}`);
  }
  return out;
}

/** An argument array for the engine: a shell line (a plain string) is refused. */
export function argv(cmd: unknown, field: string): string[] {
  if (
    !Array.isArray(cmd) || cmd.length === 0 || cmd.length > 256 ||
    !cmd.every((a) => typeof a === "string" && !a.includes("\0") && a.length <= 65_536)
  ) {
    throw new DockerInputError(field, `Invalid ${field}: must be a non-empty argument array`);
  }
  return cmd;
}

/** The engine's Healthcheck object; durations in nanoseconds. */
export function healthcheckBody(
  h: HealthcheckSpec | undefined,
): Record<string, unknown> | undefined {
  if (!h) return undefined;
  const kind = argv(h.test, "healthcheck.test")[0];
  if (!["CMD", "NONE"].includes(kind)) {
    throw new DockerInputError(
      "healthcheck.test",
      'Invalid healthcheck.test: "CMD" or "NONE" first',
    );
  }
  const ns = (ms: number | undefined, field: string) =>
    ms === undefined ? undefined : positiveInt(ms, `healthcheck.${field}`) * 1e6;
  return {
    Test: h.test,
    Interval: ns(h.intervalMs, "intervalMs"),
    Timeout: ns(h.timeoutMs, "timeoutMs"),
    Retries: h.retries,
    StartPeriod: ns(h.startPeriodMs, "startPeriodMs"),
  };
}

/** A port number from `min` to 65535. */
export function port(n: unknown, field: string, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > 65535) {
    throw new DockerInputError(field, `Invalid ${field} ${String(n)}: must be ${min}–65535`);
  }
  return n;
}

/** A positive safe integer (sizes, CPU units, durations). */
export function positiveInt(n: unknown, field: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
    throw new DockerInputError(field, `Invalid ${field} ${String(n)}: must be a positive integer`);
  }
  return n;
}

/** An absolute path inside a container. */
export function absolutePath(p: unknown, field: string): string {
  if (typeof p !== "string" || !p.startsWith("/") || p.includes("\0") || p.length > 4096) {
    throw new DockerInputError(field, `Invalid ${field}: must be an absolute path`);
  }
  return p;
}

/** A stop grace period in whole seconds. */
export function graceSeconds(t: number): number {
  if (!Number.isInteger(t) || t < 0 || t > 3600) {
    throw new DockerInputError("t", `Invalid t ${t}: must be whole seconds 0–3600`);
  }
  return t;
}

/** A driver name (networks, volumes). */
export function driverName(driver: string): string {
  if (!DRIVER_RE.test(driver)) {
    throw new DockerInputError("driver", `Invalid driver ${JSON.stringify(driver)}`);
  }
  return driver;
}
