/**
 * Allowlist validators for everything that ends up in an Engine API path or query.
 *
 * They run before any request is made, so hostile input (`; $() | & \n ../`) never reaches the
 * engine, and the error names the field so the HTTP layer can answer 400 with `fields`.
 */

/** Thrown when input fails a validator; `field` names the offending input. */
export class DockerInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "DockerInputError";
    this.field = field;
  }
}

// Docker's own container name rule, with a length cap so names stay printable and indexable.
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
// Docker's volume rule needs at least two characters (the local driver refuses one).
const VOLUME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;
const HEX_ID_RE = /^[a-f0-9]{12,64}$/;
const IMAGE_ID_RE = /^sha256:[a-f0-9]{12,64}$/;

// The distribution reference grammar, simplified: [host[:port]/]path[:tag][@sha256:hex].
const HOST = String
  .raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]{1,5})?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`;
const DIGEST = String.raw`sha256:[a-f0-9]{64}`;
const IMAGE_RE = new RegExp(
  `^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
const IMAGE_MAX = 255;

const SIGNAL_RE = /^(?:SIG)?[A-Z][A-Z0-9+-]{0,15}$|^[0-9]{1,2}$/;
const SINCE_RE = /^[0-9]{1,12}(?:\.[0-9]{1,9})?$/;

function describe(value: unknown): string {
  if (typeof value !== "string") return `a ${typeof value}`;
  if (value === "") return "empty";
  return `${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
}

function check(field: string, value: unknown, ok: (v: string) => boolean, rule: string): string {
  if (typeof value !== "string" || !ok(value)) {
    throw new DockerInputError(field, `Invalid ${field} ${describe(value)}: ${rule}`);
  }
  return value;
}

/** Validates a container name for create (Docker's name rule, 1–128 chars). */
export function containerName(value: unknown, field = "name"): string {
  return check(
    field,
    value,
    (v) => NAME_RE.test(v),
    "must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 128 characters",
  );
}

/** Validates a container reference: a container name or a 12–64 digit hex id. */
export function containerRef(value: unknown, field = "container"): string {
  return check(
    field,
    value,
    (v) => NAME_RE.test(v) || HEX_ID_RE.test(v),
    "must be a container name or a hex id",
  );
}

/** Validates an image reference (repo[:tag][@sha256:…]) or an image id, at most 255 chars. */
export function imageRef(value: unknown, field = "image"): string {
  return check(
    field,
    value,
    (v) =>
      v.length <= IMAGE_MAX &&
      (IMAGE_RE.test(v) || IMAGE_ID_RE.test(v) || HEX_ID_RE.test(v)),
    "must be an image reference like repo/name:tag or an image id",
  );
}

/** Validates a network name or id. */
export function networkName(value: unknown, field = "network"): string {
  return check(
    field,
    value,
    (v) => NAME_RE.test(v),
    "must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 128 characters",
  );
}

/** Validates a volume name (Docker's rule: at least 2 chars) with a 128-char cap. */
export function volumeName(value: unknown, field = "volume"): string {
  return check(
    field,
    value,
    (v) => VOLUME_RE.test(v),
    "must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ and be at most 128 characters",
  );
}

/** Validates a signal name (`SIGTERM`, `KILL`) or number for kill and stop. */
export function signalName(value: unknown, field = "signal"): string {
  return check(field, value, (v) => SIGNAL_RE.test(v), "must be a signal name or number");
}

/** Normalises a `since` value (unix seconds, optionally with nanoseconds) for logs and events. */
export function sinceValue(value: number | string, field = "since"): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0 || value >= 1e12) {
      throw new DockerInputError(field, `Invalid ${field} ${value}: must be unix seconds`);
    }
    if (Number.isInteger(value)) return String(value);
    // Fixed-point keeps sub-second precision without exponent notation.
    return value.toFixed(9).replace(/0+$/, "");
  }
  return check(field, value, (v) => SINCE_RE.test(v), "must be unix seconds like 1700000000.5");
}

/** Splits a validated image reference into the `fromImage` and `tag` a pull needs. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon > ref.lastIndexOf("/")) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  // An empty tag would make the engine pull every tag of the repository.
  return { name: ref, tag: "latest" };
}
