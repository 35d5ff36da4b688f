/**
 * A minimal HTTP/1.1 client for plain-http health checks: one request per connection
 * (`Connection: close`), status line and headers parsed, and at most a bounded prefix of the body.
 * It exists for cost: at 50 checks a second `fetch` spent about twice the CPU of this path (the
 * benchmark's 5 %-of-a-core budget), and a check needs none of its pooling or streaming.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Largest status line and headers accepted. */
const MAX_HEAD_BYTES = 16 * 1024;

/** What came back. */
export interface Http1Response {
  status: number;
  headers: Map<string, string>;
  /** The first bytes of the decoded body (up to the cap), when the body was asked for. */
  body: Uint8Array;
}

/** A request to send; header names and values were validated (no CR/LF) before they got here. */
export interface Http1Request {
  hostname: string;
  port: number;
  method: "GET" | "HEAD";
  /** Path and query, starting with `/`. */
  target: string;
  /** The Host header's value. */
  host: string;
  headers: Headers;
  /** Body bytes to keep (0: do not read the body). */
  maxBody: number;
  signal: AbortSignal;
}

function indexOfCrlfCrlf(buf: Uint8Array, end: number): number {
  for (let i = 3; i < end; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** Decodes a chunked body from `raw` (as much as is there), up to `max` bytes of payload. */
export function dechunk(raw: Uint8Array, max: number): Uint8Array {
  const out = new Uint8Array(Math.min(max, raw.length));
  let o = 0;
  let i = 0;
  while (i < raw.length && o < out.length) {
    let j = i;
    while (j + 1 < raw.length && !(raw[j] === 13 && raw[j + 1] === 10)) j++;
    if (j + 1 >= raw.length) break;
    const size = parseInt(decoder.decode(raw.subarray(i, j)).split(";")[0].trim(), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    const start = j + 2;
    const take = Math.min(size, raw.length - start, out.length - o);
    out.set(raw.subarray(start, start + take), o);
    o += take;
    i = start + size + 2;
  }
  return out.subarray(0, o);
}

/** Sends one request and reads the answer; the connection is closed when the signal aborts. */
export async function http1(req: Http1Request): Promise<Http1Response> {
  const conn = await Deno.connect({ hostname: req.hostname, port: req.port });
  const onAbort = () => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  };
  req.signal.addEventListener("abort", onAbort, { once: true });
  try {
    let head = `${req.method} ${req.target} HTTP/1.1\r\nHost: ${req.host}\r\n`;
    for (const [k, v] of req.headers) {
      if (k !== "host" && k !== "connection") head += `${k}: ${v}\r\n`;
    }
    head += "Connection: close\r\n\r\n";
    const bytes = encoder.encode(head);
    for (let w = 0; w < bytes.length;) w += await conn.write(bytes.subarray(w));
    // Head and body prefix share one buffer that grows as needed (most answers fit in 4 KB); a
    // chunked body's framing needs some slack on top of the body cap.
    const cap = MAX_HEAD_BYTES + req.maxBody + (req.maxBody ? 4096 : 0);
    let buf = new Uint8Array(4096);
    let len = 0;
    let bodyAt = -1;
    let wantEnd = MAX_HEAD_BYTES;
    let headers = new Map<string, string>();
    let status = 0;
    while (len < wantEnd) {
      if (len === buf.length) {
        const grown = new Uint8Array(Math.min(cap, buf.length * 2));
        grown.set(buf);
        buf = grown;
      }
      const n = await conn.read(buf.subarray(len, Math.min(buf.length, wantEnd)));
      if (n === null) break;
      len += n;
      if (bodyAt === -1) {
        bodyAt = indexOfCrlfCrlf(buf, len);
        if (bodyAt === -1) continue;
        const lines = decoder.decode(buf.subarray(0, bodyAt - 4)).split("\r\n");
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
        if (!m) throw new Error("not an HTTP/1 answer");
        status = Number(m[1]);
        headers = new Map();
        for (const line of lines.slice(1)) {
          const c = line.indexOf(":");
          if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
        }
        if (req.maxBody === 0 || req.method === "HEAD" || status === 204 || status === 304) break;
        const cl = Number(headers.get("content-length"));
        const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
        wantEnd = Math.min(cap, bodyAt + (chunked || !Number.isFinite(cl) ? cap : cl));
      }
    }
    if (bodyAt === -1) throw new Error(len ? "the answer's headers are too long" : "empty answer");
    let body: Uint8Array = buf.subarray(bodyAt, len);
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) body = dechunk(body, req.maxBody);
    return { status, headers, body: body.subarray(0, req.maxBody) };
  } finally {
    req.signal.removeEventListener("abort", onAbort);
    onAbort();
  }
}
