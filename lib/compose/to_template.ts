/**
 * A converted Compose file as a template (the Compose import's "Save as template"): the same
 * services in the template format (lib/templates/format.ts), its first service with a port as
 * the site's route, volume names without the import's prefix. Values stay as the file gave them:
 * an organization admin reviews the YAML in the editor before saving, and may turn a password
 * into a generated variable there.
 */
import { stringify } from "yaml";
import type { AppSpecInput } from "../apps/spec.ts";

type Service = AppSpecInput["services"][number];

const dur = (s: number | undefined) => (s === undefined ? undefined : `${s}s`);

function service(s: Service, prefix: string) {
  const port = s.ports?.[0]?.target;
  const deps = s.depends_on ?? [];
  return {
    image: s.image,
    ...(s.command ? { entrypoint: s.command } : {}),
    ...(s.args ? { command: s.args } : {}),
    // `$` is a reference in templates: a literal one is written `$$`.
    ...(s.env && Object.keys(s.env).length
      ? {
        environment: Object.fromEntries(
          Object.entries(s.env).map(([k, v]) => [k, v.replaceAll("$", "$$")]),
        ),
      }
      : {}),
    ...(s.volumes?.length
      ? {
        volumes: s.volumes.map((v) =>
          `${
            v.name.startsWith(`${prefix}_`) ? v.name.slice(prefix.length + 1) : v.name
          }:${v.target}${v.read_only ? ":ro" : ""}`
        ),
      }
      : {}),
    ...(deps.length ? { depends_on: deps } : {}),
    ...(s.health_check
      ? {
        healthcheck: {
          test: ["CMD", ...s.health_check.cmd],
          ...(s.health_check.interval_s !== undefined
            ? { interval: dur(s.health_check.interval_s) }
            : {}),
          ...(s.health_check.timeout_s !== undefined
            ? { timeout: dur(s.health_check.timeout_s) }
            : {}),
          ...(s.health_check.retries !== undefined ? { retries: s.health_check.retries } : {}),
          ...(s.health_check.start_period_s !== undefined
            ? { start_period: dur(s.health_check.start_period_s) }
            : {}),
        },
      }
      : {}),
    ...(s.resources?.limits || s.resources?.reservations
      ? {
        resources: Object.fromEntries(
          (["limits", "reservations"] as const).filter((k) => s.resources?.[k]).map((k) => [k, {
            ...(s.resources![k]!.cpus !== undefined ? { cpus: s.resources![k]!.cpus } : {}),
            ...(s.resources![k]!.memory_bytes !== undefined
              ? { memory: s.resources![k]!.memory_bytes }
              : {}),
          }]),
        ),
      }
      : {}),
    ...(port ? { port } : {}),
    ...(s.replicas !== undefined && s.replicas !== 1 ? { replicas: s.replicas } : {}),
    ...(s.stop_grace_s !== undefined ? { stop_grace_period: dur(s.stop_grace_s) } : {}),
  };
}

/** The template YAML of a converted Compose file. */
export function composeToTemplate(
  spec: AppSpecInput,
  meta: { id: string; name: string; volumePrefix: string },
): string {
  const routed = spec.services.find((s) => s.ports?.length);
  return stringify({
    id: meta.id,
    name: meta.name,
    description: "Imported from a Compose file.",
    category: "imported",
    version: "1.0.0",
    services: Object.fromEntries(spec.services.map((s) => [s.name, service(s, meta.volumePrefix)])),
    ...(routed ? { routes: [{ service: routed.name }] } : {}),
  }, { lineWidth: 0 });
}
