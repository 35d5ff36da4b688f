// Live islands that catch up by reading their own page again: the island's props as a fresh copy
// of the page renders them (the server's view of now), without a reload of the page.

/** The props of island `name` in a fresh render of `href`; null when the page is unreadable. */
export async function freshIslandProps<P>(href: string, name: string): Promise<P | null> {
  const res = await fetch(href, { headers: { accept: "text/html" }, credentials: "same-origin" });
  if (!res.ok) return null;
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const el = doc.querySelector<HTMLElement>(`capstan-island[data-island="${name}"]`);
  return el?.dataset.props ? JSON.parse(el.dataset.props) as P : null;
}
