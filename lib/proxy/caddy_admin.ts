/**
 * Caddy's admin API, the only way Capstan changes Caddy: `POST /load` replaces the whole config
 * atomically (on failure Caddy keeps serving the previous one and says why), `GET /config/` reads
 * it back. The admin endpoint is a Unix socket or a loopback address; a public address is refused
 * here, because whoever reaches it controls the ingress.
 */
import { Unavailable } from "../errors.ts";

/** Where Caddy's admin API listens, as configured (`unix:/run/caddy/admin.sock` or a URL). */
export interface CaddyEndpoint {
  /** `http://127.0.0.1:2019`-style base URL for requests (the host is ignored over a socket). */
  base: string;
  socket?: string;
  /** The same address in Caddy's own notation, for the config's `admin.listen`. */
  listen: string;
}

/** Parses `CAPSTAN_CADDY_ADMIN`: `unix:/path`, or `http://127.0.0.1:PORT` / `http://[::1]:PORT`. */
export function parseCaddyEndpoint(value: string): CaddyEndpoint {
  if (value.startsWith("unix:")) {
    const path = value.slice(5);
    if (!path.startsWith("/")) throw new Error("the Caddy admin socket path must be absolute");
    return { base: "http://caddy", socket: path, listen: `unix/${path}` };
  }
  const u = new URL(value);
  if (u.protocol !== "http:") throw new Error("the Caddy admin API is plain HTTP on loopback");
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host !== "127.0.0.1" && host !== "::1" && host !== "localhost") {
    throw new Error("the Caddy admin API must listen on loopback or a Unix socket");
  }
  if (!u.port) throw new Error("the Caddy admin URL needs a port");
  return { base: `http://${u.hostname}:${u.port}`, listen: `${u.hostname}:${u.port}` };
}

/** Caddy refused a config; `message` is Caddy's own words. */
export class CaddyLoadError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "CaddyLoadError";
  }
}

/** A client of one Caddy's admin API. */
export interface CaddyAdmin {
  /** Replaces Caddy's config; throws CaddyLoadError when Caddy refuses it, Unavailable when down. */
  load(config: unknown): Promise<void>;
  /** Caddy's running config (null when it has none). */
  config(): Promise<unknown>;
  close(): void;
}

const TIMEOUT_MS = 15_000;

/** A client of the admin API at `endpoint`. */
export function createCaddyAdmin(endpoint: CaddyEndpoint): CaddyAdmin {
  const client = endpoint.socket
    ? Deno.createHttpClient({ proxy: { transport: "unix", path: endpoint.socket } })
    : undefined;

  async function send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${endpoint.base}${path}`, {
        ...init,
        client,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      } as RequestInit);
    } catch (e) {
      throw new Unavailable(
        `Caddy's admin API at ${endpoint.listen} cannot be reached: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
  }

  return {
    async load(config) {
      const res = await send("/load", {
        method: "POST",
        // Caddy's admin API refuses requests whose Origin/Host it does not expect; none is sent.
        headers: { "content-type": "application/json" },
        body: JSON.stringify(config),
      });
      const text = await res.text();
      if (!res.ok) {
        let message = text.trim();
        try {
          message = (JSON.parse(text) as { error?: string }).error ?? message;
        } catch { /* not JSON: keep the text */ }
        throw new CaddyLoadError(res.status, message.slice(0, 2000) || `HTTP ${res.status}`);
      }
    },
    async config() {
      const res = await send("/config/", { method: "GET" });
      if (!res.ok) throw new Unavailable(`Caddy's admin API answered ${res.status}`);
      return await res.json();
    },
    close() {
      client?.close();
    },
  };
}
