/** The range links: plain `?range=` links without JS, in-place switches with `onPick`. */
export function RangePicker(
  { ranges, range, onPick }: { ranges: string[]; range: string; onPick?: (r: string) => void },
) {
  return (
    <nav class="range-picker" aria-label="Time range">
      {ranges.map((r) => (
        <a
          key={r}
          class={`btn btn-small${r === range ? " btn-primary" : ""}`}
          href={`?range=${r}`}
          aria-current={r === range ? "true" : undefined}
          data-range={r}
          onClick={onPick && ((e) => {
            if (e.ctrlKey || e.metaKey || e.shiftKey) return;
            e.preventDefault();
            onPick(r);
          })}
        >
          {r}
        </a>
      ))}
    </nav>
  );
}
