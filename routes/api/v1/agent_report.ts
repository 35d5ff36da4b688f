import { z } from "zod";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute } from "../../../lib/http/openapi.ts";
import type { AppEnv } from "../../../lib/http/context.ts";
import { HttpError, validationError } from "../../../lib/http/errors.ts";
import { readJsonBody } from "../../../lib/http/gzip_json.ts";
import {
  MAX_REPORT_INFLATED_BYTES,
  MetricsBatch,
  readReportMeta,
  REPORT_HEADERS,
  ReportAck,
} from "../../../lib/protocol/metrics.ts";
import { MetricsUnavailable } from "../../../lib/metrics/service.ts";
import { auditForeignMachine, isBoundMachine } from "../../../lib/agents/machine_binding.ts";
import { jsonResponse } from "./schemas.ts";

const report = apiRoute("agent", {
  method: "post",
  path: "/api/v1/agent/report",
  tags: ["agent"],
  summary:
    "An agent's metrics batch (gzip JSON, host token, the agent's machine id in X-Capstan-Machine-Id). Answered only after it is committed; a seq already committed in the same epoch is acknowledged as a duplicate and not stored again. Samples more than 5 minutes ahead of the hub's clock or before the raw retention window are refused and counted in the answer.",
  responses: {
    200: jsonResponse(ReportAck, "Committed (or already committed)"),
    403: jsonResponse(z.any(), "The host token is bound to another machine"),
    503: jsonResponse(z.any(), "The hub cannot store metrics right now; send the batch again"),
  },
});

/** Seconds an agent waits before sending a batch the hub could not store. */
const RETRY_AFTER_S = 5;

/** Metrics ingest for agents. */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(report, async (c) => {
    const host = c.var.agentHost!;
    const { services } = c.var;
    // The host token is bound to the machine it enrolled from, here as on the WebSocket: a copied
    // token alone cannot file samples under this host.
    const { machineId, ...meta } = readReportMeta(c.req.raw.headers);
    if (!isBoundMachine(host, machineId)) {
      await auditForeignMachine(
        services,
        host,
        { actor: { type: "anonymous", name: "agent" }, ip: c.get("ip") },
        { machineId, via: "report" },
      );
      services.metrics.refused(
        host.id,
        machineId
          ? "a report was refused: its host token was presented by another machine"
          : `a report was refused: it did not name its machine (agents before this hub's version do not send ${REPORT_HEADERS.machineId}; update the agent)`,
      );
      throw new HttpError(
        403,
        "token_refused",
        machineId
          ? "This host token is bound to another machine"
          : `This host token is bound to a machine: send its machine id in ${REPORT_HEADERS.machineId}`,
      );
    }
    const body = await readJsonBody(c.req.raw, MAX_REPORT_INFLATED_BYTES);
    const parsed = MetricsBatch.safeParse(body);
    if (!parsed.success) {
      const err = validationError(parsed.error);
      services.metrics.refused(host.id, `a report was refused: ${err.message}`);
      throw err;
    }
    try {
      const r = await services.metrics.ingest(host, parsed.data, meta);
      return c.json(
        { seq: parsed.data.seq, duplicate: r.duplicate, refused: r.refused, skew_ms: r.skewMs },
        200,
      );
    } catch (err) {
      if (!(err instanceof MetricsUnavailable)) throw err;
      c.header("Retry-After", String(RETRY_AFTER_S));
      throw new HttpError(503, "storage_unavailable", err.message);
    }
  });
}
