/**
 * Server side of islands: wraps a component so it renders inside a hydration marker and records
 * its use in the current render.
 *
 * The marker is a custom element, `<capstan-island style="display:contents">`, rather than a pair
 * of HTML comments: Preact's `hydrate(vnode, parent)` needs a parent element, and a custom element
 * with `display:contents` gives one without affecting layout (its children lay out as if they were
 * the parent's). Comment markers would need a fake-parent shim to hydrate a range of siblings.
 *
 * This module is isomorphic on purpose: an island that nests another island imports `island()` in
 * the browser too, renders the same marker there (so hydration markup matches), and the boot
 * script hydrates only outermost markers.
 */
import { type ComponentType, createContext, type FunctionComponent, h } from "preact";
import { useContext } from "preact/hooks";
import { type IslandName, islands } from "./registry.ts";
import type { IslandPath } from "./define.ts";

/** Tag name of the hydration marker element. */
export const ISLAND_TAG = "capstan-island";

/**
 * Stack of collectors for renders in progress. Rendering with preact-render-to-string is
 * synchronous, so between push and pop no other request can run on this thread: a module-level
 * stack is safe under any number of concurrent async requests. (It would not be with an async
 * renderer such as renderToStringAsync; do not use one with islands.)
 */
const collectors: Set<string>[] = [];

/** True below an island marker, so nested islands are not loaded separately. */
const InsideIsland = createContext(false);

/** Runs `render` while collecting the names of the outermost islands it renders. */
export function collectIslands<T>(render: () => T): { result: T; islands: Set<string> } {
  const used = new Set<string>();
  collectors.push(used);
  try {
    return { result: render(), islands: used };
  } finally {
    collectors.pop();
  }
}

/**
 * `island()` over a registry of its own: tests register their islands this way, so the production
 * registry (and with it every build) holds only the product's. `where` names the registry's file.
 */
export function islandsOf<R extends Readonly<Record<string, IslandPath>>>(
  registry: R,
  where: string,
): <P extends object>(name: keyof R & string, Component: ComponentType<P>) => FunctionComponent<P> {
  return (name, Component) => {
    if (!Object.hasOwn(registry, name)) {
      throw new Error(`Cannot use island "${name}": it is not registered in ${where}`);
    }
    return marked(name, Component);
  };
}

/**
 * Wraps an island component (the default export of a registered `islands/*.tsx` file) for use in
 * server-rendered pages; props must be JSON-serialisable.
 */
export const island: <P extends object>(
  name: IslandName,
  Component: ComponentType<P>,
) => FunctionComponent<P> = islandsOf(islands, "lib/islands/registry.ts");

/** The component that renders `Component` inside its hydration marker. */
function marked<P extends object>(name: string, Component: ComponentType<P>): FunctionComponent<P> {
  const Island: FunctionComponent<P> = (props) => {
    const nested = useContext(InsideIsland);
    const json = serializeProps(name, props);
    if (!nested) collectors.at(-1)?.add(name);
    return h(
      InsideIsland.Provider,
      { value: true },
      h(
        ISLAND_TAG,
        { "data-island": name, "data-props": json, style: "display:contents" },
        h(Component as ComponentType<Record<string, unknown>>, JSON.parse(json)),
      ),
    );
  };
  Island.displayName = `Island(${name})`;
  return Island;
}

/**
 * JSON-encodes island props, refusing anything that would not survive the round trip to the
 * browser unchanged (functions, class instances, undefined in arrays, NaN, children…), because a
 * silently different prop on the client is a hydration mismatch that is hard to trace.
 */
export function serializeProps(name: string, props: object): string {
  const { children, ...rest } = props as Record<string, unknown>;
  if (children !== undefined) {
    throw new Error(
      `Cannot render island "${name}": children are not supported (they are not ` +
        `JSON-serialisable); pass data as props instead`,
    );
  }
  const problem = findUnserialisable(rest, "");
  if (problem) {
    throw new Error(
      `Cannot render island "${name}": prop ${problem}; island props must be JSON-serialisable`,
    );
  }
  return JSON.stringify(rest);
}

/** Returns a description of the first value that JSON would drop or change, or null. */
function findUnserialisable(value: unknown, path: string, seen = new Set<object>()): string | null {
  const at = path === "" ? "value" : `"${path}"`;
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${at} is ${value}`;
    case "undefined":
      return `${at} is undefined`;
    case "function":
      return `${at} is a function`;
    case "bigint":
    case "symbol":
      return `${at} is a ${typeof value}`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return `${at} is a circular reference`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const p = findUnserialisable(obj[i], `${path}[${i}]`, seen);
        if (p) return p;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? "object";
      return `${at} is a ${kind} instance`;
    }
    for (const [key, v] of Object.entries(obj)) {
      // An undefined property is simply absent after JSON, which reads the same on the client.
      if (v === undefined) continue;
      const p = findUnserialisable(v, path === "" ? key : `${path}.${key}`, seen);
      if (p) return p;
    }
    return null;
  } finally {
    seen.delete(obj);
  }
}
