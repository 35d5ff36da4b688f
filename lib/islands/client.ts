/**
 * Browser boot module: hydrates the `<capstan-island>` markers that `island()` rendered on the
 * server. The page's inline script calls `boot({ Name: moduleUrl })` with only the islands it
 * used, so each island's code is fetched only on pages that need it.
 */
import { type ComponentType, h, hydrate } from "preact";

/** Same value as ISLAND_TAG in island.tsx; not imported so the boot chunk stays server-free. */
const TAG = "capstan-island";

/** Hydrates every outermost island marker in `root`; resolves when all have been attempted. */
export async function boot(urls: Record<string, string>, root: ParentNode = document) {
  const modules = new Map<string, Promise<{ default?: ComponentType<Record<string, unknown>> }>>();
  const load = (url: string) => {
    let p = modules.get(url);
    if (!p) modules.set(url, p = import(url));
    return p;
  };
  const markers = [...root.querySelectorAll<HTMLElement>(TAG)]
    // A nested island is part of its parent's component tree and hydrates with it.
    .filter((el) => !el.parentElement?.closest(TAG));
  await Promise.all(markers.map(async (el) => {
    const name = el.dataset.island ?? "";
    try {
      const url = urls[name];
      if (!url) throw new Error(`no module URL was given for island "${name}"`);
      const props = JSON.parse(el.dataset.props ?? "{}");
      const mod = await load(url);
      if (typeof mod.default !== "function") {
        throw new Error(`module ${url} has no default export component`);
      }
      hydrate(h(mod.default, props), el);
      // Lets browser tests (and curious humans) wait for interactivity.
      el.dataset.hydrated = "true";
    } catch (err) {
      // One broken island must not keep the others from becoming interactive.
      console.error(`Cannot hydrate island "${name}":`, err);
      el.dataset.hydrated = "error";
    }
  }));
  document.dispatchEvent(new CustomEvent("capstan:islands-hydrated"));
}
