/**
 * Email over SMTP with Deno's own sockets: implicit TLS (465), STARTTLS (587) or plain (25, for a
 * local relay), AUTH PLAIN or LOGIN. Just enough of RFC 5321/5322 for one text message: CRLF line
 * ends, dot-stuffing, header values that cannot carry a line break, non-ASCII subjects as RFC 2047
 * encoded words and non-ASCII bodies as base64.
 */
import { type AlertMessage, headline, oneLine, textLines } from "./message.ts";
import { base64 } from "../../util/ids.ts";

/** An address as channels accept it: no spaces, brackets, commas or line breaks. */
export const EMAIL_ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What one send needs. */
export interface MailOptions {
  host: string;
  port: number;
  security: "tls" | "starttls" | "none";
  username?: string | null;
  password?: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** Name this side gives in EHLO. */
  heloName?: string;
  timeoutMs?: number;
  /** Extra trusted CA certificates (PEM), e.g. a private relay's. */
  caCerts?: string[];
  /** Sends AUTH over an unencrypted connection; only for tests and loopback relays. */
  allowInsecureAuth?: boolean;
  now?: number;
}

/** A failed send; the message holds the server's reply, never the password. */
export class SmtpError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = "SmtpError";
  }
}

const enc = new TextEncoder();
const b64 = (s: string) => base64(enc.encode(s));

/** A header value on one line: line breaks and other controls become spaces. */
export function headerValue(s: string): string {
  return oneLine(s, 900);
}

/** RFC 2047 encoded word(s) for a header value that is not plain ASCII. */
export function encodeHeaderWords(s: string): string {
  const clean = headerValue(s);
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  // Encoded words are at most 75 characters: split the text by code points into safe chunks.
  const words: string[] = [];
  let chunk = "";
  for (const ch of clean) {
    if (enc.encode(chunk + ch).length > 45) {
      words.push(`=?UTF-8?B?${b64(chunk)}?=`);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(`=?UTF-8?B?${b64(chunk)}?=`);
  return words.join("\r\n ");
}

/** Normalises line ends to CRLF and doubles a leading dot on every line (RFC 5321 §4.5.2). */
export function dotStuff(body: string): string {
  return body.replace(/\r\n|\r|\n/g, "\n").split("\n").map((l) => (l.startsWith(".") ? "." + l : l))
    .join("\r\n");
}

/** RFC 5322 date. */
function mailDate(ms: number): string {
  return new Date(ms).toUTCString().replace("GMT", "+0000");
}

/** The full message (headers and body, CRLF, dot-stuffed), ready for DATA without the final dot. */
export function buildMail(
  o: Pick<MailOptions, "from" | "to" | "subject" | "text" | "now">,
): string {
  for (const a of [o.from, ...o.to]) {
    if (!EMAIL_ADDRESS.test(a)) throw new SmtpError(`Invalid address "${oneLine(a, 80)}"`);
  }
  const now = o.now ?? Date.now();
  // deno-lint-ignore no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(o.text) && o.text.split(/\r?\n/).every((l) => l.length < 990);
  const body = ascii ? o.text : (b64(o.text).match(/.{1,76}/g) ?? []).join("\r\n");
  const headers = [
    `From: Capstan <${o.from}>`,
    `To: ${o.to.join(", ")}`,
    `Subject: ${encodeHeaderWords(o.subject)}`,
    `Date: ${mailDate(now)}`,
    `Message-ID: <${crypto.randomUUID()}@capstan>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${ascii ? "7bit" : "base64"}`,
    "Auto-Submitted: auto-generated",
  ];
  return headers.join("\r\n") + "\r\n\r\n" + dotStuff(body);
}

/** Subject and body of an alert email. */
export function alertMail(m: AlertMessage): { subject: string; text: string } {
  return { subject: headline(m), text: textLines(m).join("\n") + "\n" };
}

/** Reads SMTP replies (possibly multi-line) from a connection. */
class ReplyReader {
  #buf = "";
  #dec = new TextDecoder();
  constructor(private conn: Deno.Conn) {}

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf("\r\n");
      if (i >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 2);
        return line;
      }
      if (this.#buf.length > 64 * 1024) throw new SmtpError("SMTP reply line too long");
      const chunk = new Uint8Array(4096);
      const n = await this.conn.read(chunk);
      if (n === null) throw new SmtpError("SMTP server closed the connection");
      this.#buf += this.#dec.decode(chunk.subarray(0, n), { stream: true });
    }
  }

  async reply(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      const line = await this.#line();
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) throw new SmtpError(`Malformed SMTP reply: ${oneLine(line, 120)}`);
      lines.push(m[3]);
      if (m[2] === " ") return { code: Number(m[1]), lines };
    }
    throw new SmtpError("SMTP reply too long");
  }
}

/** Sends one message; resolves when the server accepted it for delivery. */
export async function sendMail(o: MailOptions): Promise<void> {
  for (const v of [o.username ?? "", o.password ?? "", o.heloName ?? ""]) {
    if (/[\r\n\0]/.test(v)) throw new SmtpError("Line breaks are not allowed in SMTP fields");
  }
  const data = buildMail(o);
  let conn: Deno.Conn = o.security === "tls"
    ? await Deno.connectTls({ hostname: o.host, port: o.port, caCerts: o.caCerts })
    : await Deno.connect({ hostname: o.host, port: o.port });
  let encrypted = o.security === "tls";
  // One deadline for the whole exchange: a stalled server must not hold a delivery forever.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  }, o.timeoutMs ?? 30_000);
  let reader = new ReplyReader(conn);
  const write = async (line: string) => {
    const bytes = enc.encode(line + "\r\n");
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  };
  const expect = async (codes: number[], what: string) => {
    const r = await reader.reply();
    if (!codes.includes(r.code)) {
      throw new SmtpError(
        `SMTP ${what} refused: ${r.code} ${oneLine(r.lines.join(" "), 200)}`,
        r.code,
      );
    }
    return r;
  };
  const helo = o.heloName ?? "capstan.localdomain";
  try {
    await expect([220], "greeting");
    await write(`EHLO ${helo}`);
    let ehlo = await expect([250], "EHLO");
    if (o.security === "starttls") {
      if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) {
        throw new SmtpError("SMTP server does not offer STARTTLS");
      }
      await write("STARTTLS");
      await expect([220], "STARTTLS");
      conn = await Deno.startTls(conn as Deno.TcpConn, { hostname: o.host, caCerts: o.caCerts });
      encrypted = true;
      reader = new ReplyReader(conn);
      await write(`EHLO ${helo}`);
      ehlo = await expect([250], "EHLO");
    }
    if (o.username) {
      if (!encrypted && !o.allowInsecureAuth) {
        throw new SmtpError("Refusing to send SMTP credentials over an unencrypted connection");
      }
      const auth = ehlo.lines.find((l) => /^AUTH[ =]/i.test(l))?.toUpperCase().split(/[ =]/) ?? [];
      if (auth.includes("PLAIN")) {
        await write(`AUTH PLAIN ${b64(`\0${o.username}\0${o.password ?? ""}`)}`);
        await expect([235], "AUTH PLAIN");
      } else if (auth.includes("LOGIN")) {
        await write("AUTH LOGIN");
        await expect([334], "AUTH LOGIN");
        await write(b64(o.username));
        await expect([334], "AUTH LOGIN");
        await write(b64(o.password ?? ""));
        await expect([235], "AUTH LOGIN");
      } else throw new SmtpError("SMTP server offers neither AUTH PLAIN nor AUTH LOGIN");
    }
    await write(`MAIL FROM:<${o.from}>`);
    await expect([250], "MAIL FROM");
    for (const to of o.to) {
      await write(`RCPT TO:<${to}>`);
      await expect([250, 251], "RCPT TO");
    }
    await write("DATA");
    await expect([354], "DATA");
    await write(data + "\r\n.");
    await expect([250], "message");
    await write("QUIT");
    await reader.reply().catch(() => {});
  } catch (err) {
    if (timedOut) throw new SmtpError("SMTP exchange timed out");
    throw err instanceof SmtpError ? err : new SmtpError(`SMTP failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** Converts an alert to mail options for a channel's config. */
export function mailFor(
  m: AlertMessage,
  cfg: {
    host: string;
    port: number;
    security: "tls" | "starttls" | "none";
    username?: string | null;
    password?: string | null;
    from: string;
    to: string[];
  },
): MailOptions {
  return { ...cfg, ...alertMail(m) };
}
