import { bytes, labelOf, pct } from "./format.ts";

/** Each filesystem's use from the newest fs.* values, fullest first. */
export function FilesystemsPanel({ latest }: { latest: Record<string, number> }) {
  const mounts = Object.keys(latest).filter((k) => k.startsWith("fs.used_pct{"))
    .map((k) => labelOf(k)!).sort((a, b) =>
      (latest[`fs.used_pct{mount=${b}}`] ?? 0) - (latest[`fs.used_pct{mount=${a}}`] ?? 0)
    );
  if (!mounts.length) return null;
  const v = (name: string, mount: string) => latest[`${name}{mount=${mount}}`];
  return (
    <section class="card" aria-labelledby="fs-title">
      <h2 id="fs-title">Filesystems</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Mount</th>
              <th scope="col">Used</th>
              <th scope="col" class="num">Size</th>
              <th scope="col" class="num">Inodes used</th>
            </tr>
          </thead>
          <tbody>
            {mounts.map((m) => {
              const used = v("fs.used_pct", m);
              return (
                <tr key={m} data-mount={m}>
                  <th scope="row">
                    <code>{m}</code>
                  </th>
                  <td>
                    <div class="meter-cell">
                      <meter min={0} max={100} low={80} high={90} optimum={0} value={used}>
                        {pct(used)}
                      </meter>
                      <span class="nowrap">
                        {pct(used)} · {bytes(v("fs.used_bytes", m))}
                      </span>
                    </div>
                  </td>
                  <td class="num nowrap">{bytes(v("fs.total_bytes", m))}</td>
                  <td class="num">{pct(v("fs.inodes_used_pct", m))}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {latest["docker.root_bytes"] !== undefined && (
        <p class="muted small footnote">
          Docker's data root holds {bytes(latest["docker.root_bytes"])}{" "}
          (measured every few minutes).
        </p>
      )}
    </section>
  );
}
