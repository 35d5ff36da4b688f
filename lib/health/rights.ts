/**
 * What the writer of a check may make the host's agent do. A command check is an exec into the
 * container, so creating one or changing what it runs takes the organization's exec right
 * (lib/hosts/exec_policy.ts), and so does reading its results (they carry the command's output).
 * An HTTP check's own target (a host or URL instead of the container's address) follows the
 * outbound policy: link-local and metadata never (schema.ts), loopback and private addresses only
 * when an admin set the target (or CAPSTAN_ALLOW_PRIVATE_TARGETS=1 allows them for everyone) or it
 * is the container's own address. The agent enforces the same on every attempt (and for names,
 * which only it resolves); `allow_private` in the probe is how it learns that an admin allowed it.
 */
import type { Db } from "../db/mod.ts";
import type { OrgRole } from "../db/schema.ts";
import { roleAtLeast } from "../auth/principal.ts";
import { Forbidden } from "../errors.ts";
import { classifyAddress, parseIp } from "../net/outbound.ts";
import { assertMayExec, execRole } from "../hosts/exec_policy.ts";
import { urlHostname } from "../net/url_host.ts";
import type { CheckSpec } from "./schema.ts";

/** Who writes or reads a check: the organization role (platform admins act as owners). */
export interface HealthCaller {
  role: OrgRole;
}

/** What the rights need from the hub. */
export interface RightsDeps {
  db: Db;
  /** CAPSTAN_ALLOW_PRIVATE_TARGETS: an admin allowed private targets for everyone. */
  allowPrivateTargets: boolean;
  /** The container's addresses as its engine reports them now (empty when unknown or offline). */
  containerAddresses?(hostId: string, containerId: string): Promise<string[]>;
}

/** Whether a host given in a check is a loopback or private address the hub can tell as such. */
export function privateTarget(host: string): boolean {
  const h = urlHostname(host);
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  return parseIp(h) !== undefined && classifyAddress(h) === "private";
}

/** JSON with object keys sorted, so equal probes compare equal whichever form wrote them. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The probe without the hub's own marks, for comparing what a writer changed. */
function probeOf(spec: CheckSpec): string {
  const { allow_private: _, ...rest } = spec.config;
  return canonical({ kind: spec.kind, config: rest });
}

/** 403 unless the caller may run commands in the organization's containers. */
async function needExec(
  deps: RightsDeps,
  orgId: string,
  caller: HealthCaller,
  action: string,
  field?: string,
) {
  assertMayExec(caller, await execRole(deps.db, orgId), action, field);
}

/**
 * Checks a write of `next` (over `before` for an update; `caller` undefined for the system, e.g.
 * container labels) and returns the spec to store, with `allow_private` set when an admin allowed
 * a private target. `urlField` names the field a refused target came in.
 */
export async function checkWrite(
  deps: RightsDeps,
  where: { orgId: string; hostId: string; containerId: string },
  caller: HealthCaller | undefined,
  next: CheckSpec,
  before: CheckSpec | undefined,
  urlField: "http.url" | "http.host" = "http.host",
): Promise<CheckSpec> {
  const changed = !before || probeOf(before) !== probeOf(next);
  if (caller && changed && (next.kind === "command" || before?.kind === "command")) {
    await needExec(
      deps,
      where.orgId,
      caller,
      "create or change command checks (they run commands inside the container)",
      "command",
    );
  }
  if (next.kind !== "http") return next;
  const { allow_private: _, ...config } = next.config;
  const out = { ...next, config };
  const host = typeof config.host === "string" ? config.host : undefined;
  if (!host) return out;
  if (!changed && before?.config.allow_private === true) {
    return { ...out, config: { ...config, allow_private: true } };
  }
  if (!caller || roleAtLeast(caller.role, "admin") || deps.allowPrivateTargets) {
    return { ...out, config: { ...config, allow_private: true } };
  }
  if (!privateTarget(host)) return out;
  const own = await deps.containerAddresses?.(where.hostId, where.containerId)
    .catch((): string[] => []) ?? [];
  if (own.includes(urlHostname(host))) return out;
  const why = "only organization admins may point a check at a loopback or private address " +
    "other than the container's own; leave the host empty to check the container itself";
  throw new Forbidden(why[0].toUpperCase() + why.slice(1), { [urlField]: why });
}

/** 403 unless the caller may read this check's results (command checks: the exec right). */
export async function checkRead(
  deps: RightsDeps,
  orgId: string,
  caller: HealthCaller,
  kind: CheckSpec["kind"],
): Promise<void> {
  if (kind !== "command") return;
  await needExec(
    deps,
    orgId,
    caller,
    "read the results of command checks (they carry the command's output)",
  );
}

/** Whether the caller may read this check's results (for pages that show a note instead). */
export async function mayRead(
  deps: RightsDeps,
  orgId: string,
  caller: HealthCaller,
  kind: CheckSpec["kind"],
): Promise<boolean> {
  try {
    await checkRead(deps, orgId, caller, kind);
    return true;
  } catch (e) {
    if (e instanceof Forbidden) return false;
    throw e;
  }
}
