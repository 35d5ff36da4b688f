/**
 * Compose import: a `docker-compose.yml` turned into an app spec (lib/apps/spec.ts), or the
 * list of what stops it — every problem with its dotted path (`services.web.build`), line and
 * column, before anything runs. Pure: no files, no network, no environment.
 *
 * The rules, close to what `docker stack deploy` and other platforms' stack imports do:
 * - Services need an `image`; `build` waits for the builds feature. Names must be DNS labels
 *   (≤ 20 lowercase letters, digits, dashes): they are the names services reach each other by,
 *   so they are reported, never rewritten. At most 16 services; `profiles` leave a service out
 *   unless one of its profiles is asked for.
 * - `${VAR:-default}` takes its default; a variable without one (and `KEY` without a value in
 *   `environment`) is a problem naming it: Capstan has no `.env` file or shell to read.
 * - `entrypoint` → command, `command` → args. A string is split like Compose splits it (quotes,
 *   no shell); a shell operator outside quotes is a problem asking for the list form, so nothing
 *   becomes `sh -c` silently. Health checks' `CMD-SHELL` (and the string form) do become
 *   `sh -c`, because that is what the file asks Docker for.
 * - `ports` short and long syntax; ranges, other protocols and a host address other than "every
 *   address" are problems (Swarm publishes on every address: a `127.0.0.1:` port would become
 *   public). Short ports publish through the routing mesh, as in a Swarm stack.
 * - `volumes`: named volumes declared at the top level (named `<volumePrefix>_<name>` when a
 *   prefix is given, as Compose prefixes the project name; an explicit `name:` or `external`
 *   keeps its name). Host paths are refused (organization admins only, `allowBinds`); relative
 *   paths, anonymous volumes and tmpfs are unsupported.
 * - `depends_on` as a list or with `service_started`/`service_healthy` (Capstan starts a
 *   dependency first and waits for it to be healthy when it has a health check);
 *   `service_completed_successfully` is unsupported, `required: false` drops a missing one.
 * - Health check durations as Go writes them (`1m30s`); missing timings take Docker's defaults
 *   (30 s interval and timeout, 3 retries), not Capstan's, so the file means what it meant.
 * - `deploy` (replicas, mode, resources, restart_policy, update_config, placement, labels) and
 *   the older `restart`, `cpus`, `mem_limit`, `mem_reservation`, `scale` (`deploy` wins; a
 *   resource set both ways is a problem). Without either, a service restarts on any exit, as
 *   Swarm's do. `labels` and `deploy.labels` both become the service's labels (Traefik's are
 *   kept with a note that Capstan routes by its own routes); `capstan.*` labels are Capstan's.
 * - `privileged`, `devices` and `pid: host` are refused (Swarm services cannot have them);
 *   `network_mode: host` and `cap_add` are kept with a note: only organization admins may
 *   deploy them (lib/apps/policy.ts decides at deployment).
 * - Ignored with a note: `version`, `name` (returned as a suggested app name), `expose`,
 *   `networks`, `links`, `container_name`, `hostname`, `logging`, `tty`, `stdin_open`,
 *   `pull_policy`, `deploy.rollback_config`, `deploy.endpoint_mode`.
 * - Unsupported: `env_file`, `secrets`, `configs` (files next to the compose file; use Capstan
 *   secrets), `extends`, `include`, `user`, `working_dir` and every key not named here. `x-*`
 *   extension fields, anchors, aliases and `<<` merge keys are resolved.
 * - The result must pass AppSpec; what it refuses is mapped back to the compose line.
 * Problems and notes never quote an environment value: those are often passwords (a variable
 * whose name looks like one gets a note to move it into a Capstan secret).
 */
import { AppName, AppSpec, type AppSpecInput, ServiceSpec } from "../apps/spec.ts";
import { VolumeName } from "../protocol/ops.ts";
import { useSentenceMessages } from "../util/zod_messages.ts";
import type { ServiceInput } from "./deploy.ts";
import {
  emptyMap,
  type Field,
  isEmpty,
  isExtension,
  type Note,
  type Problem,
  Reader,
} from "./reader.ts";
import { convertService } from "./service.ts";
import { type MapNode, readYaml } from "./yaml_tree.ts";

export type { Note, Problem } from "./reader.ts";

/** How to convert. */
export interface ComposeOptions {
  /** Largest accepted file in bytes (256 KiB). */
  maxBytes?: number;
  /** Profiles to activate: services in other profiles are left out. */
  profiles?: string[];
  /** Host-path bind mounts become `binds` (for organization admins) instead of problems. */
  allowBinds?: boolean;
  /** Named volumes become `<prefix>_<name>`, as Compose prefixes its project name. */
  volumePrefix?: string;
}

/** The converted spec (only when there is no problem), the problems, and notes. */
export interface ComposeResult {
  spec?: AppSpecInput;
  /** The file's top-level `name`, when it is a valid app name: a suggestion. */
  name?: string;
  problems: Problem[];
  notes: Note[];
}

/** The default size limit of a compose file. */
export const COMPOSE_MAX_BYTES = 256 * 1024;
const MAX_SERVICES = 16;
/** Nodes the file may expand to through aliases. */
const MAX_NODES = 50_000;

/** Converts a compose file's text into an app spec, or says why it cannot. */
export function convertCompose(text: string, opts: ComposeOptions = {}): ComposeResult {
  // Messages read as sentences ("must be at least 6 MiB"), as in the API.
  useSentenceMessages();
  const r = new Reader();
  const maxBytes = opts.maxBytes ?? COMPOSE_MAX_BYTES;
  const start: Field = { key: "", path: "", keyLoc: { line: 1, column: 1 }, node: emptyMap() };
  // UTF-8 takes at least a byte per UTF-16 unit: a long text is too large before encoding it.
  if (text.length > maxBytes || new TextEncoder().encode(text).length > maxBytes) {
    r.problem("invalid", start, `the file is larger than ${maxBytes} bytes, the most accepted`);
    return result(r);
  }
  // Extension fields are only read through the aliases that use them.
  const read = readYaml(text, { maxNodes: MAX_NODES, skipTopLevel: isExtension });
  for (const p of read.problems) {
    r.problems.push({ path: "", ...p.loc, message: p.message, kind: p.kind });
  }
  if (!read.root) return result(r);
  if (read.root.kind !== "map") {
    r.problem("invalid", { ...start, keyLoc: read.root.loc }, "a compose file is a mapping");
    return result(r);
  }
  return convertFile(r, read.root, opts);
}

function convertFile(r: Reader, root: MapNode, opts: ComposeOptions): ComposeResult {
  const top: Field = { key: "", path: "", keyLoc: root.loc, node: root };
  let name: string | undefined;
  let services: Field | undefined;
  let volumes = new Map<string, string | null>();
  const fields = r.entries(top);
  // Volumes first: services refer to them.
  const volumeField = fields.find((f) => f.key === "volumes");
  if (volumeField) volumes = readVolumes(r, volumeField, opts);
  for (const f of fields) {
    switch (f.key) {
      case "services":
        services = f;
        break;
      case "volumes":
        break;
      case "version":
        r.note(f, "version is obsolete in Compose and ignored");
        break;
      case "name": {
        const value = r.text(f);
        if (value !== undefined && AppName.safeParse(value).success) name = value;
        r.note(f, "the project name is only a suggestion for the app's name");
        break;
      }
      case "networks":
        if (!isEmpty(f.node)) {
          r.note(
            f,
            "networks are ignored: every service of the app shares the app's network, " +
              "where services reach each other by name, and the organization's",
          );
        }
        break;
      case "secrets":
      case "configs":
        r.problem(
          "unsupported",
          f,
          `${f.key} are files next to the compose file, which Capstan does not have: ` +
            "after import, give the services Capstan secrets",
        );
        break;
      case "include":
        r.problem("unsupported", f, "include needs other files: paste one compose file");
        break;
      default:
        r.problem("unsupported", f, `${f.key} is not a supported top-level key`);
    }
  }
  if (!services) {
    r.problem("invalid", { ...top, path: "services" }, "services are missing");
    return result(r, undefined, name);
  }
  return result(r, convertServices(r, services, volumes, opts), name);
}

function result(r: Reader, spec?: AppSpecInput, name?: string): ComposeResult {
  const order = (a: Note, b: Note) => a.line - b.line || a.column - b.column;
  return {
    ...(spec && r.problems.length === 0 ? { spec } : {}),
    ...(name ? { name } : {}),
    problems: r.problems.sort(order),
    notes: r.notes.sort(order),
  };
}

/**
 * The top-level volumes: compose name → the volume's name in Capstan, or null when that name
 * is not valid (reported here once, not again at each use).
 */
function readVolumes(r: Reader, f: Field, opts: ComposeOptions): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const v of r.entries(f)) {
    if (isExtension(v.key)) continue;
    let name = opts.volumePrefix ? `${opts.volumePrefix}_${v.key}` : v.key;
    for (const o of r.entries(v)) {
      switch (o.key) {
        case "name":
          name = r.text(o) ?? name;
          r.note(o, "a volume with an explicit name keeps it: no prefix is added");
          break;
        case "external": {
          const legacy = o.node.kind === "map"
            ? r.entries(o).find((e) => e.key === "name")
            : undefined;
          if (o.node.kind === "map" || r.boolean(o)) {
            name = legacy ? r.text(legacy) ?? v.key : v.key;
            r.note(o, "an external volume is used by its name; Swarm creates it if missing");
          }
          break;
        }
        case "driver": {
          const driver = r.text(o);
          if (driver !== undefined && driver !== "local") {
            r.problem(
              "unsupported",
              o,
              `volume driver ${driver} is not supported: Capstan uses local volumes`,
            );
          }
          break;
        }
        case "driver_opts":
          r.problem(
            "unsupported",
            o,
            "driver options (NFS, bind devices) are not supported: Capstan uses plain local volumes",
          );
          break;
        case "labels":
          r.note(o, "volume labels are ignored");
          break;
        default:
          if (!isExtension(o.key)) {
            r.problem("unsupported", o, `${o.key} is not supported for volumes`);
          }
      }
    }
    const valid = VolumeName.safeParse(name).success;
    out.set(v.key, valid ? name : null);
    if (!valid) {
      r.problem(
        "invalid",
        v,
        `volume name "${name}" must be 2–128 letters, digits, _ . or -, starting with a ` +
          "letter or digit",
      );
    }
  }
  return out;
}

function convertServices(
  r: Reader,
  f: Field,
  volumes: Map<string, string | null>,
  opts: ComposeOptions,
): AppSpecInput | undefined {
  r.mark(["services"], f);
  const all = r.entries(f);
  const active = all.filter((s) => isActive(r, s, opts.profiles ?? []));
  const names = new Set(active.map((s) => s.key));
  const skipped = new Set(all.map((s) => s.key).filter((n) => !names.has(n)));
  if (active.length > MAX_SERVICES) {
    r.problem("invalid", f, `at most ${MAX_SERVICES} services (this file has ${active.length})`);
  }
  if (active.length === 0 && isEmptyOrMap(f)) {
    r.problem("invalid", f, "there is no service to run");
  }
  const services: ServiceInput[] = [];
  const clean: boolean[] = [];
  active.forEach((s, index) => {
    const before = r.problems.length;
    services.push(
      convertService(r, s, { index, names, skipped, volumes, allowBinds: !!opts.allowBinds }),
    );
    clean.push(r.problems.length === before);
  });
  // What the converter found nothing wrong with still meets the spec's own rules, or says so.
  services.forEach((s, i) => {
    if (!clean[i]) return;
    const checked = ServiceSpec.safeParse(s);
    if (!checked.success) r.specIssues(checked.error.issues, ["services", i]);
  });
  if (r.problems.length) return undefined;
  const spec: AppSpecInput = { services };
  const checked = AppSpec.safeParse(spec);
  if (!checked.success) {
    r.specIssues(checked.error.issues, []);
    return undefined;
  }
  return spec;
}

/** Whether a service runs: it has no profiles, or one of them is asked for. */
function isActive(r: Reader, s: Field, wanted: string[]): boolean {
  const entry = s.node.kind === "map" ? s.node.entries.get("profiles") : undefined;
  if (!entry) return true;
  const profiles = r.texts({
    key: entry.key,
    path: `${s.path}.profiles`,
    keyLoc: entry.keyLoc,
    node: entry.value,
  });
  if (profiles.length === 0 || profiles.some((p) => wanted.includes(p))) return true;
  const plural = profiles.length > 1 ? "s" : "";
  r.note(s, `left out: it runs only with the profile${plural} ${profiles.join(", ")}`);
  return false;
}

/** Whether a field is a mapping or nothing (other values were reported as not a mapping). */
function isEmptyOrMap(f: Field): boolean {
  return f.node.kind === "map" || (f.node.kind === "scalar" && f.node.value === null);
}
