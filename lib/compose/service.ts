/**
 * One compose service to one app service: image, command, environment, ports, volumes,
 * dependencies and the options that reach outside the container. What Capstan has no
 * equivalent for is a problem at its line; what it does not need is a note.
 */
import { ServiceName } from "../apps/spec.ts";
import {
  type At,
  readDeploy,
  readHealthcheck,
  readLabels,
  readRestart,
  type Resources,
  type ServiceInput,
  setResource,
} from "./deploy.ts";
import { dropUndefined, type Field, isEmpty, isExtension, type Reader } from "./reader.ts";
import {
  isAnyAddress,
  isHostPath,
  parseShortPort,
  parseShortVolume,
  portNumber,
  splitCommand,
  ValueError,
} from "./values.ts";

/** What a service's conversion needs to know about the rest of the file. */
export interface ServiceContext {
  /** Its place in the spec's services. */
  index: number;
  /** The services of the app. */
  names: Set<string>;
  /** Services left out by their profiles. */
  skipped: Set<string>;
  /** The top-level volumes: compose name → volume name (null: invalid, already reported). */
  volumes: Map<string, string | null>;
  /** Host paths become `binds` rather than problems. */
  allowBinds: boolean;
}

type Port = NonNullable<ServiceInput["ports"]>[number];

const FILES = "which Capstan does not have";

/** Keys Capstan has no equivalent for, with what to do instead. */
const UNSUPPORTED: Record<string, string> = {
  build: "builds come with the builds feature: give an image built elsewhere",
  env_file: `env_file needs a file next to the compose file, ${FILES}: ` +
    "write the variables under environment",
  secrets: `secrets are files next to the compose file, ${FILES}: ` +
    "after import, give the service Capstan secrets",
  configs: `configs are files next to the compose file, ${FILES}: ` +
    "after import, give the service Capstan secrets",
  tmpfs: "tmpfs mounts are not supported",
  extends: "extends is not supported: use YAML anchors and merge keys (<<: *name)",
  user: "user is not supported yet: build it into the image",
  working_dir: "working_dir is not supported yet: build it into the image",
};

/** Keys left out, with why. */
const IGNORED: Record<string, string> = {
  expose: "expose is not needed: the services of the app and the organization reach every port",
  links: "links are not needed: services reach each other by their names " +
    "(link aliases are not kept)",
  container_name: "container_name is ignored: Swarm names the containers; " +
    "the service is reached by its name",
  hostname: "hostname is ignored: Swarm names the containers; the service is reached by its name",
  logging: "logging is ignored: tasks log with the engine's default driver, which Capstan reads",
  tty: "tty is ignored: no terminal is attached to a Swarm service",
  stdin_open: "stdin_open is ignored: no terminal is attached to a Swarm service",
  pull_policy: "pull_policy is ignored: Capstan pulls the image and pins its digest " +
    "at each deployment",
};

/** A value too plain to be a secret (`MYSQL_RANDOM_ROOT_PASSWORD: "yes"`). */
const FLAG = /^(?:|yes|no|true|false|on|off|0|1)$/i;
const SECRET_LIKE = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL/i;

/** Converts the service at `f` (`services.<name>`). */
export function convertService(r: Reader, f: Field, ctx: ServiceContext): ServiceInput {
  const name = f.key;
  const at: At = (...p) => ["services", ctx.index, ...p];
  r.mark(at(), f);
  r.mark(at("name"), f);
  if (!ServiceName.safeParse(name).success) {
    r.problem(
      "invalid",
      f,
      `service name "${name}" must be 1–20 lowercase letters, digits or dashes, not starting ` +
        "or ending with a dash (services reach each other by it: rename it and its references)",
    );
  }
  const s: Partial<ServiceInput> = {};
  const resources: Resources = { limits: {}, reservations: {} };
  let labels: Record<string, string> = {};
  let restart: ServiceInput["restart"];
  let deployed: ReturnType<typeof readDeploy> | undefined;
  let hasImage = false;
  for (const e of r.entries(f)) {
    if (Object.hasOwn(UNSUPPORTED, e.key)) {
      r.problem("unsupported", e, UNSUPPORTED[e.key]);
      if (e.key === "build") hasImage = true;
      continue;
    }
    if (Object.hasOwn(IGNORED, e.key)) {
      r.note(e, IGNORED[e.key]);
      continue;
    }
    switch (e.key) {
      case "image": {
        hasImage = true;
        s.image = r.text(e);
        r.mark(at("image"), e);
        break;
      }
      case "entrypoint":
        s.command = readCommand(r, e);
        r.mark(at("command"), e);
        break;
      case "command":
        s.args = readCommand(r, e);
        r.mark(at("args"), e);
        break;
      case "environment":
        s.env = readEnvironment(r, e, at);
        break;
      case "ports":
        s.ports = readPorts(r, e, at);
        break;
      case "volumes":
        readVolumes(r, e, at, ctx, s);
        break;
      case "depends_on":
        s.depends_on = readDependsOn(r, e, at, ctx);
        break;
      case "healthcheck":
        s.health_check = readHealthcheck(r, e, at);
        break;
      case "deploy":
        deployed = readDeploy(r, e, at, resources);
        break;
      case "restart":
        restart = readRestart(r, e);
        r.mark(at("restart"), e);
        break;
      case "labels":
        labels = readLabels(r, e, at);
        break;
      case "stop_grace_period":
        s.stop_grace_s = r.duration(e);
        r.mark(at("stop_grace_s"), e);
        break;
      case "cpus":
        setResource(r, e, resources.limits, "cpus", r.number(e));
        r.mark(at("resources", "limits", "cpus"), e);
        break;
      case "mem_limit":
        setResource(r, e, resources.limits, "memory_bytes", r.bytes(e));
        r.mark(at("resources", "limits", "memory_bytes"), e);
        break;
      case "mem_reservation":
        setResource(r, e, resources.reservations, "memory_bytes", r.bytes(e));
        r.mark(at("resources", "reservations", "memory_bytes"), e);
        break;
      case "scale":
        s.replicas = r.integer(e);
        r.mark(at("replicas"), e);
        break;
      case "cap_add": {
        const caps = r.texts(e);
        if (caps.length) {
          s.cap_add = caps;
          r.mark(at("cap_add"), e);
          r.note(e, "added capabilities: only organization admins may deploy this service");
        }
        break;
      }
      case "network_mode": {
        const mode = r.text(e);
        if (mode === "host") {
          s.network_mode = "host";
          r.mark(at("network_mode"), e);
          r.note(e, "the host network: only organization admins may deploy this service");
        } else if (mode !== undefined) {
          r.problem("unsupported", e, `network_mode: ${mode} is not supported (only host)`);
        }
        break;
      }
      // Swarm services cannot have these at all (lib/apps/policy.ts refuses them too).
      case "privileged":
        if (r.boolean(e)) {
          r.problem("refused", e, "privileged containers cannot run as Swarm services");
        }
        break;
      case "devices":
        if (!isEmpty(e.node)) r.problem("refused", e, "Swarm services cannot use devices");
        break;
      case "pid": {
        const pid = r.text(e);
        if (pid === "host") {
          r.problem("refused", e, "Swarm services cannot share the host's PID namespace");
        } else if (pid !== undefined) {
          r.problem("unsupported", e, `pid: ${pid} is not supported`);
        }
        break;
      }
      case "networks":
        if (!isEmpty(e.node)) {
          r.note(
            e,
            "networks are ignored: the service joins the app's network and the organization's, " +
              "and is reached by its name",
          );
        }
        break;
      case "profiles":
        // Read when the services were chosen.
        break;
      default:
        if (!isExtension(e.key)) r.problem("unsupported", e, `${e.key} is not supported`);
    }
  }
  if (!hasImage && f.node.kind !== "seq" && f.node.kind !== "scalar") {
    r.problem("invalid", f, "image is missing");
  }
  if (deployed?.restart) {
    if (restart) r.note(f, "deploy.restart_policy is used; restart is ignored");
    restart = deployed.restart;
  }
  // Swarm's service labels are `deploy.labels`; container labels go there too.
  const allLabels = { ...labels, ...deployed?.labels };
  proxyLabelNotes(r, f, allLabels);
  const res = dropUndefined({
    limits: Object.keys(resources.limits).length ? resources.limits : undefined,
    reservations: Object.keys(resources.reservations).length ? resources.reservations : undefined,
  });
  // One key order, whatever the file's order, so specs read (and diff) the same.
  return dropUndefined({
    name,
    image: s.image ?? "",
    command: s.command,
    args: s.args,
    env: s.env,
    ports: s.ports,
    volumes: s.volumes,
    replicas: deployed?.replicas ?? s.replicas,
    global: deployed?.global,
    resources: Object.keys(res).length ? res : undefined,
    health_check: s.health_check,
    stop_grace_s: s.stop_grace_s,
    restart,
    placement: deployed?.placement,
    update: deployed?.update,
    labels: Object.keys(allLabels).length ? allLabels : undefined,
    depends_on: s.depends_on?.length ? s.depends_on : undefined,
    network_mode: s.network_mode,
    cap_add: s.cap_add,
    binds: s.binds,
  });
}

/** `command`/`entrypoint`: a list as it is, a string split as Compose splits it. */
function readCommand(r: Reader, f: Field): string[] | undefined {
  let args: (string | undefined)[];
  if (f.node.kind === "seq") {
    args = (r.list(f) ?? []).map((a) => r.text(a));
    if (args.some((a) => a === undefined)) return undefined;
  } else {
    const t = r.text(f);
    if (t === undefined) return undefined;
    try {
      args = splitCommand(t);
    } catch (err) {
      return r.valueError(f, err);
    }
  }
  if (args.length === 0) {
    r.valueProblem(
      "unsupported",
      f,
      "an empty command (clearing the image's default) is not supported",
    );
    return undefined;
  }
  return args as string[];
}

function readEnvironment(r: Reader, f: Field, at: At): Record<string, string> {
  const env: [string, string][] = [];
  r.mark(at("env"), f);
  for (const { key, field, value } of r.pairs(f)) {
    r.mark(at("env", key), field);
    if (value === null) {
      r.problem(
        "unsupported",
        field,
        `${key} has no value: Compose would take it from the shell, which Capstan does not ` +
          "have; write the value",
      );
      continue;
    }
    env.push([key, value]);
    if (SECRET_LIKE.test(key) && !key.endsWith("_FILE") && !FLAG.test(value)) {
      r.note(
        field,
        `${key} looks like a secret: after import, keep it in a Capstan secret instead`,
      );
    }
  }
  // fromEntries defines every key as its own, `__proto__` too.
  return Object.fromEntries(env);
}

/** Routing labels are kept (some other tool may read them), but they route nothing here. */
function proxyLabelNotes(r: Reader, f: Field, labels: Record<string, string>) {
  const proxies = new Set(
    Object.keys(labels).map((k) => /^(traefik|caddy)(?:[._]|$)/.exec(k)?.[1]).filter(Boolean),
  );
  for (const proxy of proxies) {
    r.note(
      f,
      `${proxy} labels are kept, but Capstan's proxy does not read labels: add a route to ` +
        "reach this service from outside",
    );
  }
}

function readPorts(r: Reader, f: Field, at: At): ServiceInput["ports"] {
  const out: Port[] = [];
  for (const p of r.list(f) ?? []) {
    const port = p.node.kind === "map" ? readLongPort(r, p) : readShortPort(r, p);
    if (!port) continue;
    for (const field of [[], ["target"], ["published"]]) {
      r.mark(at("ports", out.length, ...field), p);
    }
    out.push(port);
    const where = port.mode === "host"
      ? "on the node that runs each task (host mode)"
      : "on every node through Swarm's routing mesh (ingress)";
    r.note(
      p,
      port.published === undefined
        ? `${port.target}/${port.protocol} is published on a port Swarm picks, ${where}`
        : `${port.published}:${port.target}/${port.protocol} is published ${where}`,
    );
  }
  return out;
}

function readShortPort(r: Reader, f: Field): Port | undefined {
  const t = r.text(f);
  if (t === undefined) return undefined;
  try {
    const p = parseShortPort(t);
    if (!hostAddress(r, f, p.hostIp)) return undefined;
    return dropUndefined({
      target: p.target,
      published: p.published,
      protocol: p.protocol,
      mode: "ingress" as const,
    });
  } catch (err) {
    return r.valueError(f, err);
  }
}

const PORT_TEXT_KEYS = new Set(["target", "published", "host_ip", "protocol", "mode"]);

function readLongPort(r: Reader, f: Field): Port | undefined {
  const port: Partial<Port> = { protocol: "tcp", mode: "ingress" };
  let ok = true;
  for (const e of r.entries(f)) {
    if (!PORT_TEXT_KEYS.has(e.key)) {
      if (e.key !== "name" && e.key !== "app_protocol" && !isExtension(e.key)) {
        r.problem("unsupported", e, `${e.key} is not supported for ports`);
      }
      continue;
    }
    const t = r.text(e);
    if (t === undefined) {
      ok = false;
      continue;
    }
    try {
      switch (e.key) {
        case "target":
          port.target = portNumber(t);
          break;
        case "published":
          if (t.includes("-")) {
            throw new ValueError(
              `port ranges are not supported: list each port (${t})`,
              "unsupported",
            );
          }
          port.published = portNumber(t);
          break;
        case "host_ip":
          ok = hostAddress(r, e, t) && ok;
          break;
        case "protocol":
          if (t !== "tcp" && t !== "udp") {
            throw new ValueError(`protocol ${t} is not supported (tcp or udp)`, "unsupported");
          }
          port.protocol = t;
          break;
        case "mode":
          if (t !== "ingress" && t !== "host") throw new ValueError("mode must be ingress or host");
          port.mode = t;
          break;
      }
    } catch (err) {
      r.valueError(e, err);
      ok = false;
    }
  }
  if (port.target === undefined) {
    if (ok) r.valueProblem("invalid", f, "target is missing");
    return undefined;
  }
  if (!ok) return undefined;
  const { target, published, protocol, mode } = port;
  return dropUndefined({ target, published, protocol, mode });
}

/** Whether a port's host address is one Swarm can publish on (every address). */
function hostAddress(r: Reader, f: Field, ip: string | undefined): boolean {
  if (ip === undefined || ip === "" || isAnyAddress(ip)) return true;
  // Publishing on every address instead would make public what the file keeps private.
  r.valueProblem(
    "unsupported",
    f,
    `publishing on ${ip} only is not possible: Swarm publishes on every address. Leave the ` +
      "port out and reach the service through a Capstan route or the organization's network",
  );
  return false;
}

/** A mount as either syntax writes it, with the options it ignores. */
interface Mount {
  type?: string;
  source?: string;
  target: string;
  readOnly: boolean;
  ignored: { field: Field; message: string }[];
}

function readVolumes(r: Reader, f: Field, at: At, ctx: ServiceContext, s: Partial<ServiceInput>) {
  const volumes: NonNullable<ServiceInput["volumes"]> = [];
  const binds: string[] = [];
  for (const v of r.list(f) ?? []) {
    const mount = v.node.kind === "map" ? readLongVolume(r, v) : readShortVolume(r, v);
    if (!mount) continue;
    const { type, source, target, readOnly } = mount;
    if (!target.startsWith("/")) {
      r.valueProblem("invalid", v, `${target} must be an absolute path in the container`);
      continue;
    }
    if (type === "tmpfs") {
      r.valueProblem("unsupported", v, "tmpfs mounts are not supported");
      continue;
    }
    if (source === undefined || source === "") {
      r.valueProblem(
        "unsupported",
        v,
        `the anonymous volume at ${target} would not survive a redeployment: name it ` +
          "(name:/path) and declare it under the top-level volumes",
      );
      continue;
    }
    if (type === "bind" || isHostPath(source)) {
      if (!source.startsWith("/")) {
        r.valueProblem(
          "unsupported",
          v,
          `${source} is relative to the machine that ran Compose (the compose file's folder ` +
            `or a home directory), ${FILES}: use a named volume`,
        );
        continue;
      }
      if (!ctx.allowBinds) {
        r.valueProblem(
          "refused",
          v,
          `host paths (${source}) are for organization admins: use a named volume`,
        );
        continue;
      }
      r.mark(at("binds", binds.length), v);
      binds.push(`${source}:${target}${readOnly ? ":ro" : ""}`);
      const docker = /^\/(?:var\/)?run\/docker\.sock$/.test(source)
        ? " (the Docker socket gives the service control of the node's engine)"
        : "";
      r.note(
        v,
        `bind mount of the host's ${source}: only organization admins may deploy this ` +
          `service${docker}`,
      );
    } else {
      const name = ctx.volumes.get(source);
      if (name === undefined) {
        r.valueProblem(
          "invalid",
          v,
          `volume ${source} is not declared under the top-level volumes`,
        );
      }
      if (!name) continue;
      r.mark(at("volumes", volumes.length), v);
      volumes.push(dropUndefined({ name, target, read_only: readOnly || undefined }));
    }
    for (const { field, message } of mount.ignored) r.note(field, message);
  }
  if (volumes.length) s.volumes = volumes;
  if (binds.length) s.binds = binds;
}

function readShortVolume(r: Reader, f: Field): Mount | undefined {
  const t = r.text(f);
  if (t === undefined) return undefined;
  let v;
  try {
    v = parseShortVolume(t);
  } catch (err) {
    return r.valueError(f, err);
  }
  const ignored = v.options.filter((o) => !["ro", "rw", ""].includes(o)).map((o) => ({
    field: f,
    message: `the mount option ${o} is ignored`,
  }));
  return { source: v.source, target: v.target, readOnly: v.options.includes("ro"), ignored };
}

function readLongVolume(r: Reader, f: Field): Mount | undefined {
  const mount: Partial<Mount> & { ignored: Mount["ignored"] } = { readOnly: false, ignored: [] };
  for (const e of r.entries(f)) {
    switch (e.key) {
      case "type":
        mount.type = r.text(e);
        if (mount.type !== undefined && !["volume", "bind", "tmpfs"].includes(mount.type)) {
          r.problem("unsupported", e, `mounts of type ${mount.type} are not supported`);
          return undefined;
        }
        break;
      case "source":
        mount.source = r.text(e);
        break;
      case "target":
        mount.target = r.text(e);
        break;
      case "read_only":
        mount.readOnly = r.boolean(e) ?? false;
        break;
      case "volume":
      case "bind":
      case "consistency":
        mount.ignored.push({ field: e, message: `${e.key} options are ignored` });
        break;
      default:
        if (!isExtension(e.key)) {
          r.problem("unsupported", e, `${e.key} is not supported for volumes`);
        }
    }
  }
  if (mount.target === undefined) {
    r.valueProblem("invalid", f, "target is missing");
    return undefined;
  }
  return mount as Mount;
}

/** `depends_on` as a list or with conditions; names must be services of the app. */
function readDependsOn(r: Reader, f: Field, at: At, ctx: ServiceContext): string[] {
  const deps: { name: string; field: Field; required: boolean }[] = [];
  if (f.node.kind === "seq") {
    for (const d of r.list(f) ?? []) {
      const name = r.text(d);
      if (name !== undefined) deps.push({ name, field: d, required: true });
    }
  } else {
    let conditions = false;
    for (const d of r.entries(f)) {
      let required = true;
      for (const o of r.entries(d)) {
        if (o.key === "condition") {
          const c = r.text(o);
          if (c === "service_started" || c === "service_healthy") conditions = true;
          else if (c === "service_completed_successfully") {
            r.problem(
              "unsupported",
              o,
              "Capstan runs long-lived services: waiting for another to finish is not supported",
            );
          } else if (c !== undefined) {
            r.valueProblem("invalid", o, `condition ${c} is not known`);
          }
        } else if (o.key === "required") {
          required = r.boolean(o) ?? true;
        } else if (o.key !== "restart" && !isExtension(o.key)) {
          r.problem("unsupported", o, `${o.key} is not supported for depends_on`);
        }
      }
      deps.push({ name: d.key, field: d, required });
    }
    if (conditions) {
      r.note(
        f,
        "Capstan starts dependencies first and waits until they run, and are healthy when " +
          "they have a health check",
      );
    }
  }
  const out: string[] = [];
  for (const d of deps) {
    if (ctx.names.has(d.name)) {
      r.mark(at("depends_on", out.length), d.field);
      out.push(d.name);
    } else if (!d.required) {
      r.note(d.field, `${d.name} is not part of the app: the optional dependency is left out`);
    } else if (ctx.skipped.has(d.name)) {
      r.problem("invalid", d.field, `${d.name} is left out by its profiles: activate one of them`);
    } else {
      r.problem("invalid", d.field, `no service named ${d.name}`);
    }
  }
  return out;
}
