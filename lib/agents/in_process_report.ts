import { readJsonBody } from "../http/gzip_json.ts";
import { MAX_REPORT_INFLATED_BYTES, MetricsBatch, readReportMeta } from "../protocol/metrics.ts";
import { type Metrics, MetricsUnavailable } from "../metrics/service.ts";

/**
 * A `fetch` for the embedded agent's metrics reporter: the same gzip JSON reports a remote agent
 * POSTs, handed straight to the ingest service with the same validation and answers (503 when the
 * database cannot store it for now), so the local host's metrics take the remote path minus the
 * socket. `host` is asked per report: the embedded agent samples before it knows its host.
 */
export function inProcessReportFetch(
  host: () => { id: string; org_id: string } | undefined,
  metrics: Metrics,
): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const h = host();
    if (!h) {
      return Response.json({ error: { code: "not_ready", message: "no local host yet" } }, {
        status: 503,
      });
    }
    try {
      const parsed = MetricsBatch.safeParse(await readJsonBody(req, MAX_REPORT_INFLATED_BYTES));
      if (!parsed.success) return Response.json({ error: { code: "validation" } }, { status: 400 });
      const { machineId: _, ...meta } = readReportMeta(req.headers);
      const r = await metrics.ingest(h, parsed.data, meta);
      return Response.json({
        seq: parsed.data.seq,
        duplicate: r.duplicate,
        refused: r.refused,
        skew_ms: r.skewMs,
      });
    } catch (err) {
      const status = err instanceof MetricsUnavailable ? 503 : 500;
      return Response.json({ error: { code: "internal", message: String(err) } }, { status });
    }
  };
}
