/**
 * "Save as template…" of the Compose import page: the converted file as a template's YAML
 * (lib/compose/to_template.ts), with a comment on top listing what a template has no place for —
 * published ports, labels, placement, restart policies, host options — so the admin who reviews
 * it in the editor sees what the template will not do.
 */
import { AppSpec, type AppSpecInput } from "../../../../lib/apps/spec.ts";
import { composeToTemplate } from "../../../../lib/compose/to_template.ts";
import { RESERVED_IDS } from "../../../../lib/templates/format.ts";

/** The volume prefix the file is converted with for a template (stripped again in the YAML). */
export const TEMPLATE_VOLUME_PREFIX = "compose";

/** A template id from an app name: lowercase, digits and dashes, at most 40, not reserved. */
export function templateIdOf(name: string | undefined): string {
  const id = (name ?? "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, 40).replace(/-+$/, "");
  if (!id) return "imported";
  return RESERVED_IDS.includes(id) ? `${id}-app` : id;
}

/** What of the spec a template does not describe, by dotted path. */
export function leftOut(input: AppSpecInput): string[] {
  const left: string[] = [];
  for (const s of AppSpec.parse(input).services) {
    const at = `services.${s.name}`;
    if (s.ports.some((p) => p.published !== undefined)) {
      left.push(`${at}.ports: published ports (a template's site is reached through its route)`);
    }
    if (s.ports.length > 1) left.push(`${at}.ports: every port but the first`);
    if (s.global) left.push(`${at}: global mode (one task per node)`);
    if (s.secrets.length) left.push(`${at}.secrets`);
    if (Object.keys(s.labels).length) left.push(`${at}.labels`);
    if (s.placement.constraints.length || s.placement.max_replicas_per_node !== undefined) {
      left.push(`${at}.placement`);
    }
    if (s.restart.condition !== "any" || s.restart.max_attempts !== undefined) {
      left.push(`${at}.restart`);
    }
    if (s.network_mode || s.pid_mode || s.cap_add?.length || s.binds?.length) {
      left.push(`${at}: host options (network mode, capabilities, bind mounts)`);
    }
  }
  return left;
}

/** The template's YAML for a file converted with TEMPLATE_VOLUME_PREFIX, named `name`. */
export function templateYaml(spec: AppSpecInput, name: string | undefined): string {
  const left = leftOut(spec);
  const header = [
    "# Imported from a Compose file. Review before saving: values are copied as they are, so",
    "# make passwords variables (type: password, generate: password) rather than constants.",
    ...(left.length
      ? ["# Left out (templates do not describe them):", ...left.map((l) => `#   - ${l}`)]
      : []),
  ];
  const body = composeToTemplate(spec, {
    id: templateIdOf(name),
    name: name || "Imported app",
    volumePrefix: TEMPLATE_VOLUME_PREFIX,
  });
  return `${header.join("\n")}\n${body}`;
}
