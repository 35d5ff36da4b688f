/** The metric retention in force, and the variables that change it (read-only: config is env). */
export function RetentionTable(
  { retention }: { retention: { rawHours: number; minuteDays: number; hourDays: number } },
) {
  const rows: [string, string, string, string][] = [
    [
      "Raw samples",
      `${retention.rawHours} hours`,
      "CAPSTAN_METRICS_RAW_HOURS",
      "every sample as the agent took it (1 s by default); charts up to 3 hours",
    ],
    [
      "One-minute rollups",
      `${retention.minuteDays} days`,
      "CAPSTAN_METRICS_MINUTE_DAYS",
      "min, max, average and a histogram per minute; charts up to 3 days, statistics up to 24 h",
    ],
    [
      "One-hour rollups",
      `${retention.hourDays} days`,
      "CAPSTAN_METRICS_HOUR_DAYS",
      "the same per hour; longer charts and statistics",
    ],
  ];
  return (
    <section class="card" aria-labelledby="retention-title">
      <h2 id="retention-title">Retention</h2>
      <div class="table-wrap">
        <table class="retention-table">
          <thead>
            <tr>
              <th scope="col">Tier</th>
              <th scope="col">Kept for</th>
              <th scope="col">Variable</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([tier, kept, env, use]) => (
              <tr key={env}>
                <th scope="row">
                  {tier}
                  <span class="cell-kind">{use}</span>
                </th>
                <td data-retention={env}>{kept}</td>
                <td>
                  <code>{env}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted small footnote">
        Retention is configuration, not a setting stored here: set these environment variables on
        every hub replica and restart it. The retention job runs hourly and deletes older rows;
        rollups are written before raw rows are removed, so history stays complete.
      </p>
    </section>
  );
}
