import type { MetricFamily } from "../lib/alerts/metric_catalog.ts";

/** The suggestions of the rule form's metric field: every family, and every labelled series seen. */
export function MetricOptions({ id, families }: { id: string; families: MetricFamily[] }) {
  return (
    <datalist id={id}>
      {families.flatMap((f) => [
        <option key={f.key} value={f.key}>
          {[f.scope === "container" ? "per container" : "host", f.unit].filter(Boolean).join(", ")}
        </option>,
        ...f.values.map((v) => {
          const key = `${f.key}{${f.label}=${v}}`;
          return <option key={key} value={key}>{`${f.label} ${v}`}</option>;
        }),
      ])}
    </datalist>
  );
}

/** One table of the catalogue. */
function Families({ title, families }: { title: string; families: MetricFamily[] }) {
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <caption class="metric-catalog-caption">{title}</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Unit</th>
            <th scope="col">Labels seen</th>
          </tr>
        </thead>
        <tbody>
          {families.map((f) => (
            <tr key={f.key}>
              <td class="card-title">
                <code>{f.key}</code>
                {!f.seen && <span class="small muted">not reported yet</span>}
              </td>
              <td data-label="Unit">{f.unit || "—"}</td>
              <td data-label="Labels seen">
                {f.label
                  ? (
                    <span>
                      {f.label}:{" "}
                      {f.values.length ? f.values.join(", ") : <span class="muted">none yet</span>}
                    </span>
                  )
                  : <span class="muted">—</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The metrics a rule may watch, as a disclosure under the field (no JS): host series, and the
 * `ctr.*` series that rules on each container use, with units and the label values seen.
 */
export function MetricCatalog({ families }: { families: MetricFamily[] }) {
  return (
    <details class="metric-catalog">
      <summary>Metric catalogue: every series the agents report, with units</summary>
      <p class="hint">
        A name without <code>{"{label=value}"}</code>{" "}
        covers every mount, interface or device; add one to watch a single one, e.g.{" "}
        <code>{"fs.used_pct{mount=/}"}</code>.
      </p>
      <Families title="Host metrics" families={families.filter((f) => f.scope === "host")} />
      <Families
        title="Container metrics (tick “Evaluate on each container”)"
        families={families.filter((f) => f.scope === "container")}
      />
    </details>
  );
}
