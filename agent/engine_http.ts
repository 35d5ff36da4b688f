/**
 * Engine API requests the shared client (lib/docker) cannot make yet: a byte-stream body (a build
 * context, an image archive), a byte-stream answer (an image archive) and a request header
 * (`X-Registry-Auth`). One short-lived HTTP client per use over the engine's unix socket, closed
 * by its user, so a long upload never holds the shared client's pool.
 *
 * TODO: lib/docker's transport now streams request bodies (`upload`, used by `buildImage`, which
 * the Nix builder uses); once it also takes request headers and streams answers as bytes, the
 * agent's image operations (push, save, load) should use the client and this file go.
 */

import { DOCKER_API_VERSION, DockerError } from "../lib/docker/client.ts";
import { jsonLines } from "../lib/docker/streams.ts";

/** One request to the engine with a raw body and headers. */
export interface RawCall {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

/** An engine connection for raw calls; close it when done (it owns a socket client). */
export interface RawEngine {
  /** Sends the call; a status other than 2xx becomes a DockerError with the engine's message. */
  send(call: RawCall): Promise<Response>;
  close(): void;
}

/** Opens raw calls to the engine listening on `socketPath`. */
export function rawEngine(socketPath: string): RawEngine {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  let closed = false;
  return {
    async send(call) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) qs.set(k, v);
      const q = qs.toString();
      const url = `http://docker/v${DOCKER_API_VERSION}${call.path}${q ? `?${q}` : ""}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method: call.method,
          headers: call.headers,
          body: call.body,
          signal: call.signal,
          client,
        });
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason ?? err;
        throw new DockerError(
          503,
          `Cannot reach the Docker Engine at unix://${socketPath}: ${
            err instanceof Error ? err.message : String(err)
          }`,
          { cause: err },
        );
      }
      if (res.ok) return res;
      const text = (await res.text().catch(() => "")).trim();
      let message = text.slice(0, 1000) || `Docker Engine answered ${res.status}`;
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (typeof m === "string" && m) message = m;
      } catch {
        // not JSON: keep the text
      }
      throw new DockerError(res.status, message);
    },
    close() {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}

/** One line of an engine progress stream (build, push, load). */
export interface ProgressLine {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads an engine progress stream to its end, handing each line on; an error object in the stream
 * (the engine answers 200 and reports failure inside) is thrown as a DockerError.
 */
export async function readProgress(
  res: Response,
  onLine: (p: ProgressLine) => void,
): Promise<void> {
  if (!res.body) return;
  for await (const p of jsonLines<ProgressLine>(res.body)) {
    const error = p.errorDetail?.message ?? p.error;
    if (error) throw new DockerError(500, error);
    onLine(p);
  }
}
