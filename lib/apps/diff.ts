/**
 * What changed between two deployments of an app, in words a user checks before rolling back:
 * services added or removed, and per service the image, environment keys, ports, limits,
 * reservations and replicas. Environment values are compared but only keys are named.
 */
import type { AppSpec, ServiceSpec } from "./spec.ts";

/** One changed field of one service. */
export interface FieldChange {
  field:
    | "image"
    | "command"
    | "env"
    | "ports"
    | "limits"
    | "reservations"
    | "replicas"
    | "secrets"
    | "other";
  from?: string;
  to?: string;
  /** For env: which keys were added, removed or changed. */
  added?: string[];
  removed?: string[];
  changed?: string[];
}

/** The difference between two app specs (and the images they resolved to). */
export interface SpecDiff {
  added: string[];
  removed: string[];
  changed: { service: string; changes: FieldChange[] }[];
  /** Secret versions that changed ("secret X: version 3 → 4"); never a value. */
  secrets: { secret: string; from: number | null; to: number | null }[];
}

/** How a service gets its secrets, in words (names and where, never values). */
const secretRefText = (s: ServiceSpec) =>
  s.secrets.map((r) =>
    [
      r.env !== undefined ? `${r.secret} as $${r.env}` : "",
      r.file ? `${r.secret} at ${r.file.target ?? `/run/secrets/${r.secret}`}` : "",
    ]
      .filter(Boolean).join(", ")
  ).join("; ") || "none";

const portText = (s: ServiceSpec) =>
  s.ports.map((p) =>
    `${p.published ?? "*"}:${p.target}/${p.protocol}${p.mode === "host" ? " (host)" : ""}`
  )
    .join(", ") || "none";
const resText = (r: { cpus?: number; memory_bytes?: number } | undefined) =>
  [
    r?.cpus !== undefined ? `${r.cpus} CPU` : "",
    r?.memory_bytes !== undefined ? `${Math.round(r.memory_bytes / 2 ** 20)} MiB` : "",
  ].filter(Boolean).join(", ") || "none";
const replicaText = (s: ServiceSpec) => s.global ? "global" : String(s.replicas);

/** Fields compared one by one; whatever else differs is reported as "other". */
const NAMED = new Set([
  "name",
  "image",
  "command",
  "args",
  "env",
  "ports",
  "resources",
  "replicas",
  "global",
  "secrets",
]);

/** The command line as the spec runs it (command then args), for the diff. */
const commandText = (s: ServiceSpec) => [...(s.command ?? []), ...(s.args ?? [])].join(" ");

function stable(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
        : x,
  );
}

function serviceChanges(
  a: ServiceSpec,
  b: ServiceSpec,
  images: { from?: string; to?: string },
): FieldChange[] {
  const out: FieldChange[] = [];
  const imgA = images.from ? `${a.image} (${images.from})` : a.image;
  const imgB = images.to ? `${b.image} (${images.to})` : b.image;
  if (a.image !== b.image || (images.from && images.to && images.from !== images.to)) {
    out.push({ field: "image", from: imgA, to: imgB });
  }
  if (commandText(a) !== commandText(b)) {
    out.push({ field: "command", from: commandText(a), to: commandText(b) });
  }
  const keysA = Object.keys(a.env);
  const keysB = Object.keys(b.env);
  const added = keysB.filter((k) => !(k in a.env)).sort();
  const removed = keysA.filter((k) => !(k in b.env)).sort();
  const changed = keysA.filter((k) => k in b.env && a.env[k] !== b.env[k]).sort();
  if (added.length || removed.length || changed.length) {
    out.push({ field: "env", added, removed, changed });
  }
  if (portText(a) !== portText(b)) out.push({ field: "ports", from: portText(a), to: portText(b) });
  for (const kind of ["limits", "reservations"] as const) {
    const ta = resText(a.resources[kind]);
    const tb = resText(b.resources[kind]);
    if (ta !== tb) out.push({ field: kind, from: ta, to: tb });
  }
  if (replicaText(a) !== replicaText(b)) {
    out.push({ field: "replicas", from: replicaText(a), to: replicaText(b) });
  }
  if (secretRefText(a) !== secretRefText(b)) {
    out.push({ field: "secrets", from: secretRefText(a), to: secretRefText(b) });
  }
  const rest = (s: ServiceSpec) =>
    stable(Object.fromEntries(Object.entries(s).filter(([k]) => !NAMED.has(k))));
  if (rest(a) !== rest(b)) out.push({ field: "other" });
  return out;
}

/** Compares two deployments' specs; `images` are the resolved image ids per service, if known. */
export function diffSpecs(
  from: AppSpec | undefined,
  to: AppSpec,
  images: { from?: Record<string, string>; to?: Record<string, string> } = {},
  secrets: {
    from?: Record<string, { version: number }>;
    to?: Record<string, { version: number }>;
  } = {},
): SpecDiff {
  const before = new Map((from?.services ?? []).map((s) => [s.name, s]));
  const after = new Map(to.services.map((s) => [s.name, s]));
  const diff: SpecDiff = { added: [], removed: [], changed: [], secrets: [] };
  const names = new Set([...Object.keys(secrets.from ?? {}), ...Object.keys(secrets.to ?? {})]);
  for (const name of [...names].sort()) {
    const a = secrets.from?.[name]?.version ?? null;
    const b = secrets.to?.[name]?.version ?? null;
    if (a !== b) diff.secrets.push({ secret: name, from: a, to: b });
  }
  for (const [name, s] of after) {
    const old = before.get(name);
    if (!old) {
      diff.added.push(name);
      continue;
    }
    const changes = serviceChanges(old, s, {
      from: images.from?.[name],
      to: images.to?.[name],
    });
    if (changes.length) diff.changed.push({ service: name, changes });
  }
  for (const name of before.keys()) if (!after.has(name)) diff.removed.push(name);
  return diff;
}
