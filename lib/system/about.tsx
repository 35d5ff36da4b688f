import { Fragment } from "preact";
import type { BuildFacts } from "./build_facts.ts";

/** The About panel: what is running, on which database; the data directory for platform admins. */
export function AboutPanel(
  { build, dialect, dataDir, startedAt }: {
    build: BuildFacts;
    dialect: string;
    /** Shown to platform admins only: it names a path on the hub's machine. */
    dataDir?: string;
    startedAt: number;
  },
) {
  const rows: [string, string][] = [
    ["Version", build.version],
    ["Commit", build.commit],
    ["Build date", build.date],
    ["License", build.license],
    ["Database", dialect === "postgres" ? "PostgreSQL" : "SQLite"],
    ...(dataDir ? [["Data directory", dataDir] as [string, string]] : []),
    ["Running since", new Date(startedAt).toISOString()],
  ];
  return (
    <section class="card" aria-labelledby="about-title">
      <h2 id="about-title">About this hub</h2>
      <dl class="props">
        {rows.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}
