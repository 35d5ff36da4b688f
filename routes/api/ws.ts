import type { Hono } from "hono";
import type { AppEnv } from "../../lib/http/context.ts";
import { principalOf } from "../../lib/http/context.ts";
import { declare, guard } from "../../lib/http/policy.ts";
import { attachWebSocket, type RealtimeHub } from "../../lib/realtime/hub.ts";
import { HttpError } from "../../lib/http/errors.ts";
import { foreignOrigin, hubOrigins } from "../../lib/http/middleware.ts";

/**
 * `GET /api/v1/ws`: the realtime hub, for sessions (cookie) and API tokens (Authorization header).
 * A browser always sends Origin with a WebSocket handshake and SameSite does not cover it, so a
 * foreign Origin is refused here as the CSRF check refuses foreign forms; scripts send none.
 */
export function register(app: Hono<AppEnv>, hub: RealtimeHub) {
  declare({ method: "GET", path: "/api/v1/ws", policy: "user", kind: "ws" });
  app.get("/api/v1/ws", guard("user"), (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(
        400,
        "bad_request",
        "This endpoint speaks WebSocket only (Upgrade: websocket)",
      );
    }
    const origin = c.req.header("origin");
    const { publicUrl } = c.var.services.config;
    if (origin !== undefined && !hubOrigins(publicUrl).has(origin)) throw foreignOrigin(publicUrl);
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 60 });
    attachWebSocket(hub, socket, principalOf(c));
    return response;
  });
}
