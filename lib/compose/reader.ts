/**
 * Reading a compose file's values with their places: each read either gives a value or records
 * a problem at the line it came from, so the converter can go on and report everything at once.
 * The reader also remembers which compose place each part of the spec came from, so what the
 * app spec's own rules refuse is reported at the compose line too.
 */
import type { z } from "zod";
import { interpolate } from "./interpolate.ts";
import { parseBytes, parseDuration, ValueError } from "./values.ts";
import type { Entry, Loc, MapNode, Tree } from "./yaml_tree.ts";

/** Something in the file that keeps it from becoming an app. */
export interface Problem {
  /** Dotted path in the compose file: `services.web.ports.0`. */
  path: string;
  line: number;
  column: number;
  message: string;
  /** `unsupported`: Capstan cannot (yet); `refused`: by policy; `invalid`: the file is wrong. */
  kind: "unsupported" | "refused" | "invalid";
}

/** Something converted differently from what Compose would do, or left out, worth knowing. */
export interface Note {
  path: string;
  line: number;
  column: number;
  message: string;
}

export type Kind = Problem["kind"];
/** A path in the app spec: `["services", 0, "ports", 1]`. */
export type SpecPath = (string | number)[];

/** A value read from the file: its key (or index), where it is and what it is. */
export interface Field {
  key: string;
  path: string;
  /** Where its key is written (the value's own place for a list item). */
  keyLoc: Loc;
  node: Tree;
}

/** A `KEY: value` or `KEY=value` pair; value null when the file gives none. */
export interface Pair {
  key: string;
  field: Field;
  value: string | null;
}

const child = (f: Field, e: Entry): Field => ({
  key: e.key,
  path: f.path ? `${f.path}.${e.key}` : e.key,
  keyLoc: e.keyLoc,
  node: e.value,
});

/** Whether a key is an extension field (`x-…`), which Compose and Capstan ignore. */
export const isExtension = (key: string) => key.startsWith("x-");

/** Whether a value is empty (nothing, `[]` or `{}`). */
export function isEmpty(node: Tree): boolean {
  if (node.kind === "scalar") return node.value === null;
  if (node.kind === "seq") return node.items.length === 0;
  return node.entries.size === 0;
}

/** The object without its undefined fields (the spec's JSON has none). */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** An empty mapping at the start of the file. */
export function emptyMap(): MapNode {
  return { kind: "map", loc: { line: 1, column: 1 }, entries: new Map() };
}

/** Problems, notes and typed reads of a compose file's values. */
export class Reader {
  readonly problems: Problem[] = [];
  readonly notes: Note[] = [];
  /** Where each part of the spec came from, by spec path ("services.0.ports.1"). */
  private readonly trace = new Map<string, { path: string; loc: Loc }>();

  /** A problem at a key. */
  problem(kind: Kind, f: Field, message: string) {
    const { line, column } = f.keyLoc;
    this.problems.push({ path: f.path, line, column, message, kind });
  }

  /** A problem about a value rather than its key. */
  valueProblem(kind: Kind, f: Field, message: string) {
    this.problem(kind, { ...f, keyLoc: f.node.loc }, message);
  }

  /** A note at a key. */
  note(f: Field, message: string) {
    this.notes.push({ path: f.path, line: f.keyLoc.line, column: f.keyLoc.column, message });
  }

  /** Remembers that a part of the spec comes from this field. */
  mark(spec: SpecPath, f: Field) {
    this.trace.set(spec.join("."), { path: f.path, loc: f.keyLoc });
  }

  /** A scalar as text, interpolated; undefined (with a problem) when it is not one. */
  text(f: Field): string | undefined {
    const n = f.node;
    if (n.kind !== "scalar" || n.value === null) {
      this.valueProblem("invalid", f, n.kind === "scalar" ? "needs a value" : "must be text");
      return undefined;
    }
    if (typeof n.value !== "string") return n.text;
    const r = interpolate(n.value);
    if (r.error) {
      this.valueProblem("invalid", f, `invalid interpolation: ${r.error}`);
      return undefined;
    }
    if (r.unset.length) {
      for (const v of new Set(r.unset)) {
        this.valueProblem(
          "unsupported",
          f,
          `variable ${v} is not set and has no default: write the value, ` +
            `or give a default with \${${v}:-value}`,
        );
      }
      return undefined;
    }
    return r.value;
  }

  /** A number, written as one or as text (`"0.5"`, or what `${CPUS:-0.5}` gives). */
  number(f: Field, what = "a number"): number | undefined {
    const n = f.node;
    if (n.kind === "scalar" && typeof n.value === "number") return n.value;
    const t = this.text(f);
    if (t === undefined) return undefined;
    if (/^-?\d+(?:\.\d+)?$/.test(t.trim())) return Number(t);
    this.valueProblem("invalid", f, `must be ${what}`);
    return undefined;
  }

  /** A whole number. */
  integer(f: Field): number | undefined {
    const v = this.number(f, "a whole number");
    if (v === undefined) return undefined;
    if (Number.isInteger(v)) return v;
    this.valueProblem("invalid", f, "must be a whole number");
    return undefined;
  }

  /** true or false. */
  boolean(f: Field): boolean | undefined {
    const n = f.node;
    if (n.kind === "scalar" && typeof n.value === "boolean") return n.value;
    const t = this.text(f);
    if (t === "true" || t === "false") return t === "true";
    if (t !== undefined) this.valueProblem("invalid", f, "must be true or false");
    return undefined;
  }

  /** Seconds of a duration (`1m30s`). */
  duration(f: Field): number | undefined {
    const t = this.text(f);
    if (t === undefined) return undefined;
    try {
      return parseDuration(t);
    } catch (err) {
      return this.valueError(f, err);
    }
  }

  /** Bytes of a size (`512M`). */
  bytes(f: Field): number | undefined {
    const n = f.node;
    const value = n.kind === "scalar" && typeof n.value === "number" ? n.value : this.text(f);
    if (value === undefined) return undefined;
    try {
      return parseBytes(value);
    } catch (err) {
      return this.valueError(f, err);
    }
  }

  /** Records a ValueError as a problem at the value. */
  valueError(f: Field, err: unknown): undefined {
    if (!(err instanceof ValueError)) throw err;
    this.valueProblem(err.kind, f, err.message);
    return undefined;
  }

  /** The fields of a mapping (nothing for an empty value). */
  entries(f: Field): Field[] {
    if (f.node.kind === "map") return [...f.node.entries.values()].map((e) => child(f, e));
    if (f.node.kind !== "scalar" || f.node.value !== null) {
      this.valueProblem("invalid", f, "must be a mapping");
    }
    return [];
  }

  /** The fields of a sequence; undefined (with a problem) when it is not one. */
  list(f: Field): Field[] | undefined {
    if (f.node.kind === "seq") {
      return f.node.items.map((node, i) => ({
        key: String(i),
        path: `${f.path}.${i}`,
        keyLoc: node.loc,
        node,
      }));
    }
    if (f.node.kind === "scalar" && f.node.value === null) return [];
    this.valueProblem("invalid", f, "must be a list");
    return undefined;
  }

  /** The texts of a list, leaving out those that could not be read. */
  texts(f: Field): string[] {
    return (this.list(f) ?? []).map((i) => this.text(i)).filter((t): t is string =>
      t !== undefined
    );
  }

  /** `KEY: value` mappings or `KEY=value` lists (environment, labels). */
  pairs(f: Field): Pair[] {
    const out: Pair[] = [];
    if (f.node.kind !== "seq") {
      for (const e of this.entries(f)) {
        if (e.node.kind === "scalar" && e.node.value === null) {
          out.push({ key: e.key, field: e, value: null });
          continue;
        }
        const t = this.text(e);
        if (t !== undefined) out.push({ key: e.key, field: e, value: t });
      }
      return out;
    }
    for (const it of this.list(f) ?? []) {
      const n = it.node;
      if (n.kind !== "scalar" || typeof n.value !== "string") {
        this.valueProblem("invalid", it, "must be KEY=value");
        continue;
      }
      // The key names the item in problems; only the value is interpolated.
      const eq = n.value.indexOf("=");
      const key = eq < 0 ? n.value : n.value.slice(0, eq);
      const field = { ...it, key, path: `${f.path}.${key}` };
      if (eq < 0) {
        out.push({ key, field, value: null });
        continue;
      }
      const raw = n.value.slice(eq + 1);
      const value = this.text({ ...field, node: { ...n, value: raw, text: raw } });
      if (value !== undefined) out.push({ key, field, value });
    }
    return out;
  }

  /** Reports what the spec's own rules refuse, at the compose line the value came from. */
  specIssues(issues: z.core.$ZodIssue[], prefix: SpecPath) {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path.map((p) => typeof p === "symbol" ? String(p) : p)];
      const at = this.locate(path);
      // A record's key: its own rule says what is wrong ("environment names are letters…").
      const message = issue.code === "invalid_key" && issue.issues[0]
        ? issue.issues[0].message
        : issue.message;
      // The spec field is named when the compose place is only near it.
      const rest = path.slice(at.depth).join(".");
      this.problems.push({
        path: at.path,
        line: at.loc.line,
        column: at.loc.column,
        message: rest ? `${rest} ${message}` : message,
        kind: "invalid",
      });
    }
  }

  /** The compose place of a spec path: the longest traced prefix of it. */
  private locate(path: SpecPath): { path: string; loc: Loc; depth: number } {
    for (let n = path.length; n > 0; n--) {
      const hit = this.trace.get(path.slice(0, n).join("."));
      if (hit) return { ...hit, depth: n };
    }
    return { path: "services", loc: { line: 1, column: 1 }, depth: 0 };
  }
}
