/**
 * "Save as template" of the Compose import: an app spec converted from a compose file, written
 * as a template's YAML for the editor to check and save. Templates are a smaller language than
 * app specs (lib/templates/format.ts), so what has no place in one — published ports, labels,
 * placement, restart and update policies, host options — is left out and listed in a comment at
 * the top, where the admin reviewing it sees it. Values are copied as they are: a password in the
 * compose file is a password in the template until it is made a variable.
 */
import { stringify } from "yaml";
import { AppSpec, type AppSpecInput } from "../../../../lib/apps/spec.ts";
import { RESERVED_IDS } from "../../../../lib/templates/format.ts";

type Service = AppSpec["services"][number];

/** A template id from an app name: lowercase, digits and dashes, at most 40, not reserved. */
export function templateIdOf(name: string | undefined): string {
  const id = (name ?? "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, 40).replace(/-+$/, "");
  if (!id) return "imported";
  return RESERVED_IDS.includes(id) ? `${id}-app` : id;
}

/** A volume's name as templates write it (they add the app's name in front when deploying). */
function volumeKey(name: string): string {
  const key = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[^a-z0-9]+/, "")
    .slice(0, 41);
  return key || "data";
}

/** `10s` of seconds. */
const duration = (s: number) => `${s}s`;

/** A literal `$` of the compose file (already interpolated) must not read as a reference. */
const literal = (s: string) => s.replaceAll("$", "$$");

/** Converts one service; `left` collects what a template cannot say. */
function serviceOf(
  s: Service,
  healthy: Set<string>,
  left: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { image: s.image };
  // The spec's command replaces the entrypoint (Compose's entrypoint), its args the command.
  if (s.command) out.entrypoint = s.command.map(literal);
  if (s.args?.length) out.command = s.args.map(literal);
  if (Object.keys(s.env).length) {
    out.environment = Object.fromEntries(
      Object.entries(s.env).map(([k, v]) => [k, literal(v)]),
    );
  }
  if (s.volumes.length) {
    out.volumes = s.volumes.map((v) =>
      `${volumeKey(v.name)}:${v.target}${v.read_only ? ":ro" : ""}`
    );
  }
  if (s.depends_on.length) {
    out.depends_on = s.depends_on.some((d) => healthy.has(d))
      ? Object.fromEntries(
        s.depends_on.map((d) => [
          d,
          { condition: healthy.has(d) ? "service_healthy" : "service_started" },
        ]),
      )
      : s.depends_on;
  }
  const h = s.health_check;
  if (h) {
    out.healthcheck = {
      test: h.cmd.length === 3 && h.cmd[0] === "sh" && h.cmd[1] === "-c"
        ? ["CMD-SHELL", h.cmd[2]]
        : ["CMD", ...h.cmd],
      interval: duration(h.interval_s),
      timeout: duration(h.timeout_s),
      retries: h.retries,
      ...(h.start_period_s ? { start_period: duration(h.start_period_s) } : {}),
    };
  }
  const res = (r: { cpus?: number; memory_bytes?: number } | undefined) =>
    r && (r.cpus !== undefined || r.memory_bytes !== undefined)
      ? {
        ...(r.cpus !== undefined ? { cpus: r.cpus } : {}),
        ...(r.memory_bytes !== undefined ? { memory: r.memory_bytes } : {}),
      }
      : undefined;
  const limits = res(s.resources.limits);
  const reservations = res(s.resources.reservations);
  if (limits || reservations) {
    out.resources = {
      ...(limits ? { limits } : {}),
      ...(reservations ? { reservations } : {}),
    };
  }
  const tcp = s.ports.find((p) => p.protocol === "tcp");
  if (tcp) out.port = tcp.target;
  if (s.replicas !== 1) out.replicas = Math.min(s.replicas, 20);
  if (s.stop_grace_s !== undefined) out.stop_grace_period = duration(s.stop_grace_s);

  const at = `services.${s.name}`;
  if (s.ports.some((p) => p.published !== undefined)) {
    left.push(`${at}.ports: published ports (a template's site is reached through its route)`);
  }
  if (s.ports.some((p) => p.protocol === "udp")) left.push(`${at}.ports: UDP ports`);
  if (s.global) left.push(`${at}: global mode (one task per node)`);
  if (s.replicas > 20) left.push(`${at}.replicas: more than 20 (20 kept)`);
  if (s.secrets.length) left.push(`${at}.secrets`);
  if (Object.keys(s.labels).length) left.push(`${at}.labels`);
  if (s.placement.constraints.length || s.placement.max_replicas_per_node !== undefined) {
    left.push(`${at}.placement`);
  }
  if (s.restart.condition !== "any" || s.restart.max_attempts !== undefined) {
    left.push(`${at}.restart`);
  }
  if (s.network_mode || s.pid_mode || s.cap_add?.length || s.binds?.length || s.devices?.length) {
    left.push(`${at}: host options (network mode, capabilities, bind mounts)`);
  }
  return out;
}

/** The template's YAML for a converted compose file, named `name` (also its id). */
export function templateFromSpec(input: AppSpecInput, name: string | undefined): string {
  const spec = AppSpec.parse(input);
  const id = templateIdOf(name);
  const healthy = new Set(spec.services.filter((s) => s.health_check).map((s) => s.name));
  const left: string[] = [];
  const services: Record<string, unknown> = {};
  for (const s of spec.services) services[s.name] = serviceOf(s, healthy, left);
  // The site: the first service publishing a TCP port (else the first with any TCP port).
  const routed =
    spec.services.find((s) =>
      s.ports.some((p) => p.protocol === "tcp" && p.published !== undefined)
    ) ?? spec.services.find((s) => s.ports.some((p) => p.protocol === "tcp"));
  const template = {
    id,
    name: name ?? "Imported app",
    description: "Imported from a Compose file.",
    category: "imported",
    version: "1.0.0",
    services,
    ...(routed ? { routes: [{ service: routed.name }] } : {}),
  };
  const header = [
    "# Imported from a Compose file. Review before saving: values are copied as they are, so",
    "# make passwords variables (type: password, generate: password) rather than constants.",
    ...(left.length
      ? [
        "# Left out (templates do not describe them):",
        ...left.map((l) => `#   - ${l}`),
      ]
      : []),
  ];
  return `${header.join("\n")}\n${stringify(template, { lineWidth: 0 })}`;
}
