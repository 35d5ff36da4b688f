/**
 * A real Caddy (Debian's `caddy`) for tests: its admin API on a loopback port, its data (the
 * internal CA among it) in a temporary folder, HTTP and HTTPS on free loopback ports; and a small
 * client that reaches Caddy by address while naming any hostname (Host header and TLS SNI), so
 * tests need no DNS.
 */
import * as http from "node:http";
import * as https from "node:https";
import { freePort, until } from "./process.ts";
import {
  type CaddyAdmin,
  type CaddyEndpoint,
  createCaddyAdmin,
  parseCaddyEndpoint,
} from "../../lib/proxy/caddy_admin.ts";

export interface TestCaddy {
  endpoint: CaddyEndpoint;
  httpPort: number;
  httpsPort: number;
  /** The internal CA's root certificate (PEM), once Caddy has made it. */
  rootCa(): Promise<string>;
  /** Caddy's output so far (for a failing test's message). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Caddy with an empty config and its admin API on a free loopback port. */
export async function startCaddy(): Promise<TestCaddy> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-caddy-" });
  const adminPort = freePort();
  const endpoint = parseCaddyEndpoint(`http://127.0.0.1:${adminPort}`);
  const configFile = `${dir}/initial.json`;
  await Deno.writeTextFile(configFile, JSON.stringify({ admin: { listen: endpoint.listen } }));
  const child = new Deno.Command("caddy", {
    args: ["run", "--config", configFile],
    env: { HOME: dir, XDG_DATA_HOME: `${dir}/data`, XDG_CONFIG_HOME: `${dir}/config` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out = (out + decoder.decode(chunk)).slice(-20_000);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  try {
    await until(
      "Caddy's admin API",
      async () => {
        try {
          const r = await fetch(`${endpoint.base}/config/`);
          await r.body?.cancel();
          return r.ok;
        } catch {
          return false;
        }
      },
      30_000,
      100,
    );
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return {
    endpoint,
    httpPort: freePort(),
    httpsPort: freePort(),
    async rootCa() {
      const path = `${dir}/data/caddy/pki/authorities/local/root.crt`;
      await until("Caddy's internal CA", async () => {
        try {
          return (await Deno.stat(path)).isFile;
        } catch {
          return false;
        }
      });
      return await Deno.readTextFile(path);
    },
    output: () => out,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await drained.catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** An answer through the proxy. */
export interface ProxyAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The issuer's common name of the certificate served (HTTPS only). */
  issuer?: string;
}

/**
 * One request to `127.0.0.1:port` for `host` (Host header, and SNI over TLS), never following
 * redirects.
 */
export function ask(
  port: number,
  host: string,
  path = "/",
  opts: {
    tls?: { ca: string };
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  } = {},
): Promise<ProxyAnswer> {
  return new Promise((resolve, reject) => {
    const common = {
      host: "127.0.0.1",
      port,
      path,
      method: opts.method ?? "GET",
      headers: { host, connection: "close", ...opts.headers },
      timeout: opts.timeoutMs ?? 10_000,
    };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => {
        // deno-lint-ignore no-explicit-any
        const cert = (res.socket as any)?.getPeerCertificate?.();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: new TextDecoder().decode(concat(chunks)),
          issuer: cert?.issuer?.CN,
        });
      });
      res.on("error", reject);
    };
    const req = opts.tls
      ? https.request({ ...common, servername: host, ca: opts.tls.ca, agent: false }, onResponse)
      : http.request({ ...common, agent: false }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`no answer from ${host} in time`)));
    req.on("error", reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Caddy's own reading of a Caddyfile: `caddy adapt` → its JSON config and its warnings. */
export async function adaptCaddyfile(
  caddyfile: string,
): Promise<{ config: Record<string, unknown>; warnings: string }> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-caddyfile-" });
  try {
    const file = `${dir}/Caddyfile`;
    await Deno.writeTextFile(file, caddyfile);
    const out = await new Deno.Command("caddy", {
      args: ["adapt", "--config", file, "--adapter", "caddyfile"],
      env: { HOME: dir, XDG_DATA_HOME: `${dir}/data`, XDG_CONFIG_HOME: `${dir}/config` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const warnings = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`caddy adapt refused the Caddyfile: ${warnings}`);
    return { config: JSON.parse(new TextDecoder().decode(out.stdout)), warnings };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A real HTTP server that says who it is, what it was asked and with which headers. */
export function startUpstream(name: string) {
  const port = freePort();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.text();
    return Response.json({
      name,
      path: url.pathname,
      host: req.headers.get("host"),
      headers: Object.fromEntries(req.headers),
      body_bytes: body.length,
    });
  });
  return { dial: `127.0.0.1:${port}`, stop: () => server.shutdown() };
}

/** Runs `fn` with a fresh Caddy and its admin client, printing Caddy's output when `fn` fails. */
export async function withCaddy(fn: (caddy: TestCaddy, admin: CaddyAdmin) => Promise<void>) {
  const caddy = await startCaddy();
  const admin = createCaddyAdmin(caddy.endpoint);
  try {
    await fn(caddy, admin);
  } catch (e) {
    console.log(caddy.output().slice(-4000));
    throw e;
  } finally {
    admin.close();
    await caddy.stop();
  }
}
