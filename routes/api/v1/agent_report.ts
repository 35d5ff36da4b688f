import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { validationError } from "../../../lib/http/errors.ts";
import { readJsonBody } from "../../../lib/http/gzip_json.ts";
import {
  MAX_REPORT_INFLATED_BYTES,
  MetricsBatch,
  ReportAck,
} from "../../../lib/protocol/metrics.ts";
import { jsonResponse } from "./schemas.ts";

const report = apiRoute("agent", {
  method: "post",
  path: "/api/v1/agent/report",
  tags: ["agent"],
  summary:
    "An agent's metrics batch (gzip JSON, host token). Answered only after it is committed; a seq already committed is acknowledged as a duplicate and not stored again.",
  responses: { 200: jsonResponse(ReportAck, "Committed (or already committed)") },
});

/** Metrics ingest for agents. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(report, async (c) => {
    const host = c.var.agentHost!;
    const body = await readJsonBody(c.req.raw, MAX_REPORT_INFLATED_BYTES);
    const parsed = MetricsBatch.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error);
    const r = await c.var.services.metrics.ingest(host, parsed.data);
    return c.json({ seq: parsed.data.seq, duplicate: r.duplicate }, 200);
  });
}
