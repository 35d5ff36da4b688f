import { bytes, labelOf, num, pct } from "./format.ts";

/** Each GPU's utilisation, memory, temperature and power; nothing when the host has no GPU series. */
export function GpuPanel({ latest }: { latest: Record<string, number> }) {
  const gpus = [
    ...new Set(Object.keys(latest).filter((k) => k.startsWith("gpu.")).map((k) => labelOf(k))),
  ].filter((g): g is string => g !== undefined).sort();
  if (!gpus.length) return null;
  const v = (name: string, gpu: string) => latest[`${name}{gpu=${gpu}}`];
  return (
    <section class="card" aria-labelledby="gpu-title">
      <h2 id="gpu-title">GPUs</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">GPU</th>
              <th scope="col">Utilisation</th>
              <th scope="col" class="num">Memory</th>
              <th scope="col" class="num">Temperature</th>
              <th scope="col" class="num">Power</th>
            </tr>
          </thead>
          <tbody>
            {gpus.map((g) => {
              const util = v("gpu.util_pct", g);
              return (
                <tr key={g} data-gpu={g}>
                  <th scope="row">{g}</th>
                  <td>
                    <div class="meter-cell">
                      <meter min={0} max={100} value={util}>{pct(util)}</meter>
                      <span>{pct(util)}</span>
                    </div>
                  </td>
                  <td class="num nowrap">
                    {bytes(v("gpu.mem_used_bytes", g))} / {bytes(v("gpu.mem_total_bytes", g))}
                  </td>
                  <td class="num">
                    {v("gpu.temp_c", g) === undefined ? "—" : `${num(v("gpu.temp_c", g), 0)} °C`}
                  </td>
                  <td class="num">
                    {v("gpu.power_w", g) === undefined ? "—" : `${num(v("gpu.power_w", g), 0)} W`}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
