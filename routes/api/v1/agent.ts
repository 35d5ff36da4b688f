import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiRoute, z } from "../../../lib/http/openapi.ts";
import { type AppContext, type AppEnv } from "../../../lib/http/context.ts";
import { declare, guard } from "../../../lib/http/policy.ts";
import { HttpError } from "../../../lib/http/errors.ts";
import { toHttpError } from "../../../lib/http/error_handler.ts";
import { createFailureLimiter, type FailureLimiter } from "../../../lib/auth/rate_limit.ts";
import type { Services } from "../../../services.ts";
import { webSocketTransport } from "../../../lib/protocol/transport.ts";
import { acceptAgent } from "../../../lib/agents/accept.ts";
import { createAgentBundler } from "../../../lib/agents/bundle.ts";
import { hubUrlOf, installScript } from "../../../lib/agents/install_script.ts";
import { jsonBody, jsonResponse } from "./schemas.ts";

/** Failed enrollments allowed per client IP per window before 429. */
const ENROLL_MAX_FAILURES = 10;
const ENROLL_WINDOW_MS = 15 * 60_000;

/** One limiter per services instance (each test app gets a fresh one). */
const limiters = new WeakMap<Services, FailureLimiter>();
function limiterOf(services: Services): FailureLimiter {
  let l = limiters.get(services);
  if (!l) {
    l = createFailureLimiter(services.clock, {
      max: ENROLL_MAX_FAILURES,
      windowMs: ENROLL_WINDOW_MS,
    });
    limiters.set(services, l);
  }
  return l;
}

const bundler = createAgentBundler();

/** What an agent sends to enroll. */
export const EnrollInput = z.object({
  token: z.string().min(1).max(200),
  machine_id: z.string().regex(/^[A-Za-z0-9-]{8,128}$/, "letters, digits and -, 8 to 128"),
  hostname: z.string().max(255).refine((s) => !/[\r\n\0]/.test(s), "must be one line"),
});

const enrollRoute = apiRoute("public", {
  method: "post",
  path: "/api/v1/agent/enroll",
  tags: ["agent"],
  summary: "Exchange a single-use enrollment token for the host token (agents call this)",
  description:
    "The enrollment token is the credential. The host token in the answer is bound to `machine_id`: " +
    "the same token from another machine is refused. Failures are limited per client IP.",
  request: jsonBody(EnrollInput),
  responses: {
    200: jsonResponse(
      z.object({ host_id: z.string(), host_token: z.string() }),
      "Enrolled; store host_token (0600) and connect",
    ),
    400: jsonResponse(z.any(), "Invalid input"),
    401: jsonResponse(z.any(), "Invalid, used or expired enrollment token"),
    429: jsonResponse(z.any(), "Too many failed enrollments from this address"),
  },
});

function auditCtx(c: AppContext) {
  return { actor: { type: "anonymous" as const, name: "agent" }, ip: c.get("ip") };
}

/**
 * Agent endpoints: enrollment, the agent WebSocket, and the install script with the agent bundle
 * it downloads (both public: they carry no secret, the enrollment token is the credential).
 */
export function register(app: OpenAPIHono<AppEnv>) {
  app.openapi(enrollRoute, async (c) => {
    const { services } = c.var;
    const key = `ip:${c.get("ip") ?? "?"}`;
    const limiter = limiterOf(services);
    const wait = limiter.retryAfter(key);
    if (wait > 0) {
      throw new HttpError(
        429,
        "rate_limited",
        `Too many failed enrollments; try again in ${Math.ceil(wait / 60_000)} min`,
      );
    }
    const body = c.req.valid("json");
    try {
      const r = await services.hosts.enroll(auditCtx(c), {
        token: body.token,
        machineId: body.machine_id,
        hostname: body.hostname,
      });
      c.header("Cache-Control", "no-store");
      return c.json({ host_id: r.hostId, host_token: r.token }, 200);
    } catch (err) {
      if (toHttpError(err).status === 401) limiter.fail(key);
      throw err;
    }
  });

  declare({ method: "GET", path: "/api/v1/agent/connect", policy: "agent", kind: "ws" });
  app.get("/api/v1/agent/connect", guard("agent"), (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      // Agents also call this without Upgrade after a failed handshake, to tell 401 from "hub down".
      throw new HttpError(
        400,
        "bad_request",
        "This endpoint speaks WebSocket only (Upgrade: websocket)",
      );
    }
    const host = c.get("agentHost")!;
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 60 });
    const { services } = c.var;
    acceptAgent(services, host, webSocketTransport(socket), auditCtx(c)).catch((err) =>
      services.log.error("agent connection failed", { hostId: host.id, error: String(err) })
    );
    return response;
  });

  declare({ method: "GET", path: "/api/v1/agent/install.sh", policy: "public", kind: "asset" });
  app.get("/api/v1/agent/install.sh", async (c) => {
    c.header("Content-Type", "text/x-shellscript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(await installScript(hubUrlOf(c)));
  });

  declare({ method: "GET", path: "/api/v1/agent/bundle.js", policy: "public", kind: "asset" });
  app.get("/api/v1/agent/bundle.js", async (c) => {
    const b = await bundler.get();
    const etag = `"${b.sha256}"`;
    c.header("ETag", etag);
    c.header("Cache-Control", "no-cache");
    c.header("X-Capstan-Agent-Version", b.version);
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    c.header("Content-Type", "text/javascript; charset=utf-8");
    return c.body(b.code);
  });
}
