/**
 * A YAML document as a plain tree whose every node knows its line and column, with anchors,
 * aliases and `<<` merge keys already resolved, so the Compose converter can name the line of
 * whatever it reads. Expansion is bounded by a node budget: an alias used many times (or a
 * "billion laughs" document) costs what it expands to, and past the budget reading stops.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  visit,
} from "yaml";

/** A 1-based position in the source text. */
export interface Loc {
  line: number;
  column: number;
}

/** A mapping's key with its position and value. */
export interface Entry {
  key: string;
  keyLoc: Loc;
  value: Tree;
}

/** A mapping (keys in the order written, merged keys after the mapping's own). */
export interface MapNode {
  kind: "map";
  loc: Loc;
  entries: Map<string, Entry>;
}

/** A sequence. */
export interface SeqNode {
  kind: "seq";
  loc: Loc;
  items: Tree[];
}

/** A scalar: its parsed value and its text as written (`1.10` stays "1.10", not 1.1). */
export interface ScalarNode {
  kind: "scalar";
  loc: Loc;
  value: string | number | boolean | null;
  text: string;
}

export type Tree = MapNode | SeqNode | ScalarNode;

/** Something that stops the document from being read, where it is. */
export interface YamlProblem {
  loc: Loc;
  message: string;
  kind: "invalid" | "unsupported";
}

/** Limits on reading. */
export interface ReadOptions {
  /** Nodes the expanded tree may hold (aliases count what they expand to). */
  maxNodes?: number;
  /** Top-level keys left unread (their nodes stay reachable through aliases). */
  skipTopLevel?: (key: string) => boolean;
}

const STANDARD_TAG = "tag:yaml.org,2002:";

class Budget extends Error {}

/**
 * Reads one YAML document (YAML 1.2 core schema, so `yes` and `on` stay text) into a located
 * tree. Syntax errors, duplicate keys, unknown tags and an exhausted budget come back as
 * problems; the tree is absent when the document could not be read.
 */
export function readYaml(
  text: string,
  opts: ReadOptions = {},
): { root?: Tree; problems: YamlProblem[] } {
  const maxNodes = opts.maxNodes ?? 100_000;
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    prettyErrors: false,
    schema: "core",
    uniqueKeys: true,
  });
  const at = (offset: number | undefined): Loc => {
    const p = lines.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const problems: YamlProblem[] = doc.errors.map((e) => ({
    loc: at(e.pos[0]),
    message: firstLine(e.message),
    kind: "invalid" as const,
  }));
  if (problems.length) return { problems };

  const aliasTargets = anchorsOf(doc);
  let nodes = 0;
  const expanding = new Set<YamlNode>();

  const build = (node: unknown, skip?: (key: string) => boolean): Tree => {
    if (++nodes > maxNodes) throw new Budget();
    if (isAlias(node)) {
      const target = aliasTargets.get(node);
      if (!target) throw new ReadProblem(at(node.range?.[0]), `unknown anchor *${node.source}`);
      if (expanding.has(target)) {
        throw new ReadProblem(at(node.range?.[0]), `alias *${node.source} refers to itself`);
      }
      expanding.add(target);
      try {
        return build(target);
      } finally {
        expanding.delete(target);
      }
    }
    const yamlNode = node as YamlNode | null;
    const loc = at(yamlNode?.range?.[0]);
    if (yamlNode?.tag && !yamlNode.tag.startsWith(STANDARD_TAG)) {
      throw new ReadProblem(
        loc,
        `the tag ${yamlNode.tag} is not supported (Compose's !reset and !override are for merging files)`,
        "unsupported",
      );
    }
    if (isMap(node)) {
      const entries = new Map<string, Entry>();
      const merges: YamlNode[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
          merges.push(pair.value as YamlNode);
          continue;
        }
        if (!isScalar(keyNode)) {
          throw new ReadProblem(at(keyNode?.range?.[0]), "mapping keys must be plain text");
        }
        const key = keyNode.value === null ? "" : String(keyNode.value);
        if (skip?.(key)) continue;
        entries.set(key, { key, keyLoc: at(keyNode.range?.[0]), value: build(pair.value) });
      }
      if (merges.length === 0) return { kind: "map", loc, entries };
      // A mapping's own keys win over merged ones; among merged mappings the first one wins.
      // Merged keys come first, as a `<<` usually opens the mapping.
      const all = new Map<string, Entry>();
      for (const source of merges) {
        for (const merged of mergeSources(build(source), at(source?.range?.[0]))) {
          for (const [key, entry] of merged.entries) {
            if (!entries.has(key) && !all.has(key)) all.set(key, entry);
          }
        }
      }
      for (const [key, entry] of entries) all.set(key, entry);
      return { kind: "map", loc, entries: all };
    }
    if (isSeq(node)) return { kind: "seq", loc, items: node.items.map((n) => build(n)) };
    if (isScalar(node)) {
      const v = node.value;
      const value = typeof v === "string" || typeof v === "number" || typeof v === "boolean"
        ? v
        : v === null
        ? null
        : String(v);
      const source = node.type === "PLAIN" ? node.source : undefined;
      return {
        kind: "scalar",
        loc,
        value,
        text: typeof source === "string" ? source : String(v ?? ""),
      };
    }
    // An empty value (`web:` with nothing after it).
    return { kind: "scalar", loc, value: null, text: "" };
  };

  try {
    return { root: build(doc.contents, opts.skipTopLevel), problems };
  } catch (err) {
    if (err instanceof Budget) {
      return {
        problems: [{
          loc: { line: 1, column: 1 },
          message: `the document expands to more than ${maxNodes} nodes (too many aliases)`,
          kind: "invalid",
        }],
      };
    }
    if (err instanceof ReadProblem) {
      return { problems: [{ loc: err.loc, message: err.message, kind: err.kind }] };
    }
    throw err;
  }
}

class ReadProblem extends Error {
  constructor(
    readonly loc: Loc,
    message: string,
    readonly kind: "invalid" | "unsupported" = "invalid",
  ) {
    super(message);
  }
}

/** What a `<<` value merges: one mapping or a list of them. */
function mergeSources(value: Tree, loc: Loc): MapNode[] {
  if (value.kind === "map") return [value];
  if (value.kind === "seq" && value.items.every((i) => i.kind === "map")) {
    return value.items as MapNode[];
  }
  throw new ReadProblem(loc, "a merge key (<<) takes a mapping or a list of mappings");
}

/** Each alias's anchored node: the last anchor of that name before the alias, as YAML says. */
function anchorsOf(doc: Document): Map<YamlNode, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<YamlNode, YamlNode>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
