import { readJsonBody } from "../http/gzip_json.ts";
import { MAX_REPORT_INFLATED_BYTES, MetricsBatch } from "../protocol/metrics.ts";
import type { Metrics } from "../metrics/service.ts";

/**
 * A `fetch` for the embedded agent's metrics reporter: the same gzip JSON reports a remote agent
 * POSTs, handed straight to the ingest service with the same validation, so the local host's
 * metrics take the remote path minus the socket.
 */
export function inProcessReportFetch(
  host: { id: string; org_id: string },
  metrics: Metrics,
): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    try {
      const parsed = MetricsBatch.safeParse(await readJsonBody(req, MAX_REPORT_INFLATED_BYTES));
      if (!parsed.success) return Response.json({ error: { code: "validation" } }, { status: 400 });
      const r = await metrics.ingest(host, parsed.data);
      return Response.json({ seq: parsed.data.seq, duplicate: r.duplicate });
    } catch (err) {
      return Response.json({ error: { code: "internal", message: String(err) } }, { status: 500 });
    }
  };
}
