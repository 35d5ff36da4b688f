/**
 * Loopback receivers for notification tests: an HTTP server that verifies Capstan's webhook
 * signature the way a real receiver would, and a minimal SMTP server that accepts messages.
 */
import { hmacHex } from "../../lib/alerts/channels/webhook.ts";
import { base64url, constantTimeEqual } from "../../lib/util/ids.ts";

/**
 * Configuration for services whose channels post to these receivers: loopback targets allowed,
 * channel secrets sealed with a key of the test's own.
 */
export function loopbackAlertsEnv(): Record<string, string> {
  return {
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
  };
}

/** One request the HTTP receiver got. */
export interface Received {
  path: string;
  headers: Headers;
  body: string;
  json: Record<string, unknown>;
  /** The signature checked out against the secret (webhook receivers only). */
  verified: boolean;
}

/**
 * Serves 127.0.0.1:<free port>; answers each request with the next status of `statuses` (then
 * 200). With `secret`, verifies X-Capstan-Signature over the raw body and refuses (401) a bad one.
 */
export function startReceiver(opts: { secret?: string; statuses?: number[] } = {}) {
  const got: Received[] = [];
  const statuses = [...(opts.statuses ?? [])];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    let verified = false;
    if (opts.secret) {
      const sig = req.headers.get("x-capstan-signature") ?? "";
      const ts = Number(req.headers.get("x-capstan-timestamp"));
      verified = constantTimeEqual(sig, `sha256=${await hmacHex(opts.secret, body)}`) &&
        Number.isInteger(ts) && JSON.parse(body).timestamp === ts;
      if (!verified) return new Response("bad signature", { status: 401 });
    }
    got.push({
      path: new URL(req.url).pathname,
      headers: req.headers,
      body,
      json: JSON.parse(body),
      verified,
    });
    const status = statuses.shift() ?? 200;
    return new Response(status === 200 ? "ok" : "nope", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    got,
    async close() {
      await server.shutdown();
    },
  };
}

/** One message the SMTP server accepted. */
export interface Mail {
  from: string;
  to: string[];
  /** The DATA section with dot-stuffing undone, CRLF line ends. */
  data: string;
  /** AUTH exchange as the server decoded it, e.g. ["PLAIN", "user", "pass"]. */
  auth: string[];
}

/** A minimal SMTP server on 127.0.0.1 (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT). */
export function startSmtp(opts: { authMechanisms?: string[] } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const mails: Mail[] = [];
  const transcripts: string[][] = [];
  const enc = new TextEncoder();
  const dec = (b64: string) =>
    new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

  async function session(conn: Deno.Conn) {
    const lines: string[] = [];
    transcripts.push(lines);
    let buf = "";
    const chunk = new Uint8Array(4096);
    const readLine = async (): Promise<string | null> => {
      for (;;) {
        const i = buf.indexOf("\r\n");
        if (i >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          lines.push(line);
          return line;
        }
        const n = await conn.read(chunk);
        if (n === null) return null;
        buf += new TextDecoder().decode(chunk.subarray(0, n));
      }
    };
    const say = (s: string) => conn.write(enc.encode(s + "\r\n"));
    let mail: Mail = { from: "", to: [], data: "", auth: [] };
    await say("220 test.local ESMTP");
    for (;;) {
      const line = await readLine();
      if (line === null) break;
      const cmd = line.toUpperCase();
      if (cmd.startsWith("EHLO")) {
        const mechs = opts.authMechanisms ?? [];
        await say(
          mechs.length
            ? `250-test.local\r\n250-AUTH ${mechs.join(" ")}\r\n250 8BITMIME`
            : "250 test.local",
        );
      } else if (cmd.startsWith("AUTH PLAIN ")) {
        const [, user, pass] = dec(line.slice(11)).split("\0");
        mail.auth = ["PLAIN", user, pass];
        await say("235 ok");
      } else if (cmd === "AUTH LOGIN") {
        await say("334 VXNlcm5hbWU6");
        const user = dec((await readLine()) ?? "");
        await say("334 UGFzc3dvcmQ6");
        const pass = dec((await readLine()) ?? "");
        mail.auth = ["LOGIN", user, pass];
        await say("235 ok");
      } else if (cmd.startsWith("MAIL FROM:")) {
        mail.from = line.slice(10).replace(/[<>]/g, "");
        await say("250 ok");
      } else if (cmd.startsWith("RCPT TO:")) {
        mail.to.push(line.slice(8).replace(/[<>]/g, ""));
        await say("250 ok");
      } else if (cmd === "DATA") {
        await say("354 go ahead");
        const data: string[] = [];
        for (;;) {
          const l = await readLine();
          if (l === null || l === ".") break;
          data.push(l.startsWith("..") ? l.slice(1) : l);
        }
        mail.data = data.join("\r\n");
        mails.push(mail);
        mail = { from: "", to: [], data: "", auth: mail.auth };
        await say("250 queued");
      } else if (cmd === "QUIT") {
        await say("221 bye");
        break;
      } else await say("500 unknown");
    }
    conn.close();
  }

  const done = (async () => {
    for await (const conn of listener) session(conn).catch(() => {});
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    mails,
    transcripts,
    async close() {
      listener.close();
      await done.catch(() => {});
    },
  };
}

/** Waits until `check()` is true (polling), or fails naming `what`. */
export async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
