/**
 * "Test connection" for an S3-compatible snapshot target (AWS S3, MinIO, Cloudflare R2, Backblaze
 * B2, Supabase Storage's S3 endpoint): writes a small probe object under the target's prefix,
 * reads it back and compares the bytes, deletes it, and says which step failed and why — the
 * name, the TLS, the connection, the credentials, the bucket, the read or the delete (restic needs
 * to delete: locks and `forget --prune`).
 *
 * Requests are signed with SigV4 by `aws4fetch` and go through the hub's outbound policy
 * (lib/net/outbound.ts): https only, no link-local or metadata addresses ever, loopback and private
 * ones only when the admin allows private targets — the same rule as notification channels. A
 * custom CA (a self-hosted MinIO) is trusted for these requests only, through their own HTTP
 * client. Redirects are not followed. No message ever carries the secret key: messages are
 * composed here from the S3 error code, and a last pass scrubs the secret should it appear.
 */
import { AwsV4Signer } from "aws4fetch";
import { z } from "zod";
import {
  checkHost,
  checkUrlSyntax,
  type OutboundPolicy,
  OutboundRefused,
  parseIp,
} from "../net/outbound.ts";

/** The most of an answer read (probe bodies and S3 error documents are far smaller). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** An S3-compatible target as the form and the API give it. */
export const s3TargetSchema = z.object({
  /** `https://host[:port][/path prefix]`, e.g. `https://<ref>.supabase.co/storage/v1/s3`. */
  endpoint: z.string().trim().min(1).max(2048).refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" && !u.search && !u.hash && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "must be an https:// URL without credentials, query or fragment"),
  region: z.string().trim().regex(/^[a-z0-9-]{1,64}$/, "must be a region name like us-east-1")
    .default("us-east-1"),
  /** S3's bucket naming rules (lower case, digits, dots, hyphens; 3–63 characters). */
  bucket: z.string().regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "must be 3–63 lower-case letters, digits, dots or hyphens",
  ),
  /** Folder inside the bucket; restic's repository lives under it. */
  prefix: z.string().max(512).regex(
    /^[A-Za-z0-9._\-/]*$/,
    "may hold letters, digits, dots, hyphens, underscores and slashes only",
  ).refine((s) => !s.split("/").some((p) => p === "." || p === ".."), "may not hold . or ..")
    .default(""),
  access_key_id: z.string().min(1).max(256),
  secret_access_key: z.string().min(1).max(512),
  /** `https://endpoint/bucket/key` (MinIO, Supabase) instead of `https://bucket.endpoint/key`. */
  path_style: z.boolean().default(true),
  /** PEM of a CA to trust for this target only (a self-hosted server's own CA). */
  ca_pem: z.string().max(64 * 1024).optional(),
});

/** A validated S3 target. */
export type S3Target = z.infer<typeof s3TargetSchema>;

/** The step a probe got to. */
export type S3ProbeStep = "check" | "write" | "read" | "delete";

/** Why a probe failed, for the page to pick its hint. */
export type S3ProbeFailure =
  | "refused" // the outbound policy refused the endpoint
  | "dns" // the name does not resolve
  | "tls" // certificate not trusted, wrong name, handshake failed
  | "connect" // nothing answers at that address and port
  | "timeout"
  | "credentials" // unknown access key, or the secret does not match it
  | "forbidden" // credentials valid, but not allowed here
  | "bucket_missing"
  | "region" // the bucket lives in another region, or the endpoint answers a redirect
  | "clock" // the hub's clock is too far off for SigV4
  | "not_found" // the object written a moment ago cannot be read back
  | "mismatch" // read back, but other bytes
  | "delete_refused"
  | "http"; // any other answer

/** The outcome of a probe. */
export type S3ProbeResult =
  | { ok: true; elapsedMs: number }
  | {
    ok: false;
    step: S3ProbeStep;
    failure: S3ProbeFailure;
    /** For people; never holds the secret key. */
    message: string;
    /** The HTTP status, when an answer came. */
    status?: number;
  };

/** Options of a probe. */
export interface S3ProbeOptions extends OutboundPolicy {
  /** Per request (default 15 s). */
  timeoutMs?: number;
}

/** Endpoint path without a trailing slash: "" for `https://s3.amazonaws.com`. */
function basePath(endpoint: URL): string {
  return endpoint.pathname.replace(/\/+$/, "");
}

/** An object key under the prefix, slashes tidied: `a/b` + `k` → `a/b/k`. */
export function objectKey(prefix: string, name: string): string {
  const p = prefix.split("/").filter(Boolean).join("/");
  return p ? `${p}/${name}` : name;
}

/**
 * The URL of an object: path-style `https://endpoint[/path]/bucket/key`, or virtual-host
 * `https://bucket.endpoint[/path]/key`. Virtual-host addressing needs a DNS name (a bucket
 * subdomain of an address means nothing), so an address endpoint refuses it.
 */
export function s3ObjectUrl(
  target: Pick<S3Target, "endpoint" | "bucket" | "path_style">,
  key: string,
): URL {
  const endpoint = new URL(target.endpoint);
  const encodedKey = key.split("/").map(encodeURIComponent).join("/");
  if (target.path_style) {
    return new URL(`${endpoint.origin}${basePath(endpoint)}/${target.bucket}/${encodedKey}`);
  }
  if (parseIp(endpoint.hostname.replace(/^\[|\]$/g, ""))) {
    throw new OutboundRefused(
      "Virtual-host addressing needs a host name, not an address: turn on path-style",
    );
  }
  const port = endpoint.port ? `:${endpoint.port}` : "";
  return new URL(
    `https://${target.bucket}.${endpoint.hostname}${port}${basePath(endpoint)}/${encodedKey}`,
  );
}

/** SHA-256 of bytes, hex: S3's x-amz-content-sha256. */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A request as signed: what goes on the wire. */
export interface SignedRequest {
  method: string;
  url: URL;
  headers: Headers;
}

/**
 * Signs an S3 request with SigV4 (service "s3") through aws4fetch. The payload is hashed (no
 * UNSIGNED-PAYLOAD) unless the caller set x-amz-content-sha256. `datetime` (`YYYYMMDDTHHMMSSZ`)
 * fixes the clock for the published test vectors.
 */
export async function signS3Request(
  creds: { accessKeyId: string; secretAccessKey: string; region: string },
  req: { method: string; url: URL; headers?: HeadersInit; body?: Uint8Array },
  datetime?: string,
): Promise<SignedRequest> {
  const headers = new Headers(req.headers);
  if (!headers.has("x-amz-content-sha256")) {
    headers.set("x-amz-content-sha256", await sha256Hex(req.body ?? new Uint8Array()));
  }
  const signed = await new AwsV4Signer({
    method: req.method,
    url: req.url.href,
    headers,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    service: "s3",
    region: creds.region,
    datetime,
  }).sign();
  return { method: signed.method, url: signed.url, headers: signed.headers };
}

/** A fetch failure (no answer) named by its kind. */
function classifyFetchError(err: unknown): { failure: S3ProbeFailure; detail: string } {
  const name = err instanceof Error ? err.name : "";
  const text = err instanceof Error
    ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ""}`
    : String(err);
  if (name === "TimeoutError" || /timed? ?out/i.test(text)) {
    return { failure: "timeout", detail: "no answer in time" };
  }
  if (/certificate|tls|handshake|ssl/i.test(text)) {
    const why = /UnknownIssuer/i.test(text)
      ? "its certificate is signed by an unknown CA (give the target's CA certificate)"
      : /NotValidForName|name/i.test(text)
      ? "its certificate is not valid for this host name"
      : /Expired/i.test(text)
      ? "its certificate has expired"
      : "the TLS handshake failed";
    return { failure: "tls", detail: why };
  }
  if (/dns error|failed to lookup|Name or service not known/i.test(text)) {
    return { failure: "dns", detail: "the host name does not resolve" };
  }
  if (/refused|reset|unreachable|connect/i.test(text)) {
    return {
      failure: "connect",
      detail: "nothing accepted the connection at that address and port",
    };
  }
  return { failure: "connect", detail: "the request could not be sent" };
}

/** Reads at most MAX_ANSWER_BYTES of an answer. */
async function readBounded(res: Response): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(Math.min(size, MAX_ANSWER_BYTES));
  let at = 0;
  for (const p of parts) {
    const take = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** The `<Code>` of an S3 error document, if it is one (letters only: nothing else is echoed). */
function s3ErrorCode(body: Uint8Array): string | undefined {
  const m = /<Code>\s*([A-Za-z0-9.]{1,64})\s*<\/Code>/.exec(new TextDecoder().decode(body));
  return m?.[1];
}

/** An S3 error answer, named. */
function classifyAnswer(
  step: S3ProbeStep,
  status: number,
  code: string | undefined,
  bucket: string,
): { failure: S3ProbeFailure; message: string } {
  const answered = `(S3 answered ${status}${code ? ` ${code}` : ""})`;
  if (code === "SignatureDoesNotMatch") {
    return {
      failure: "credentials",
      message: `The secret access key does not match the access key ID ${answered}`,
    };
  }
  if (code === "InvalidAccessKeyId" || code === "InvalidToken") {
    return { failure: "credentials", message: `The access key ID is not known here ${answered}` };
  }
  if (code === "RequestTimeTooSkewed") {
    return {
      failure: "clock",
      message: `The hub's clock is too far from the server's ${answered}`,
    };
  }
  if (
    code === "AuthorizationHeaderMalformed" || code === "PermanentRedirect" ||
    code === "IllegalLocationConstraintException" || (status >= 300 && status < 400)
  ) {
    return {
      failure: "region",
      message:
        `The bucket answers from another region or address: check the region and the path-style setting ${answered}`,
    };
  }
  if (code === "NoSuchBucket" || (step === "write" && status === 404)) {
    return { failure: "bucket_missing", message: `Bucket "${bucket}" does not exist ${answered}` };
  }
  if (step === "read" && (code === "NoSuchKey" || status === 404)) {
    return {
      failure: "not_found",
      message: `The probe object written a moment ago cannot be read back ${answered}`,
    };
  }
  if (step === "delete") {
    return {
      failure: "delete_refused",
      message:
        `Deleting the probe object was refused; restic must delete (locks, pruning) ${answered}`,
    };
  }
  if (status === 401 || status === 403) {
    return {
      failure: "forbidden",
      message: `These credentials may not ${step} objects in bucket "${bucket}" ${answered}`,
    };
  }
  return { failure: "http", message: `The ${step} failed ${answered}` };
}

/** Writes, reads back and deletes a probe object; see the module comment. */
export async function probeS3Target(
  target: S3Target,
  options: S3ProbeOptions,
): Promise<S3ProbeResult> {
  const started = Date.now();
  const scrub = (r: S3ProbeResult): S3ProbeResult =>
    r.ok ? r : { ...r, message: r.message.split(target.secret_access_key).join("…") };

  let url: URL;
  try {
    url = s3ObjectUrl(target, objectKey(target.prefix, `.capstan-probe-${crypto.randomUUID()}`));
    checkUrlSyntax(url.href, options);
    if (url.protocol !== "https:") throw new OutboundRefused("Refused URL: S3 targets use https");
    await checkHost(url.hostname, options);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const failure = message.startsWith("Cannot resolve") ? "dns" : "refused";
    return scrub({ ok: false, step: "check", failure, message });
  }

  let client: Deno.HttpClient | undefined;
  try {
    client = target.ca_pem ? Deno.createHttpClient({ caCerts: [target.ca_pem] }) : undefined;
  } catch {
    return {
      ok: false,
      step: "check",
      failure: "tls",
      message: "The CA certificate is not valid PEM",
    };
  }
  const creds = {
    accessKeyId: target.access_key_id,
    secretAccessKey: target.secret_access_key,
    region: target.region,
  };
  const send = async (step: S3ProbeStep, method: string, body?: Uint8Array) => {
    const headers: Record<string, string> = body
      ? { "content-type": "application/octet-stream" }
      : {};
    const signed = await signS3Request(creds, { method, url, headers, body });
    try {
      const res = await fetch(signed.url, {
        method,
        headers: signed.headers,
        body: body as BodyInit | undefined,
        redirect: "manual",
        client,
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
      return { res, bytes: await readBounded(res) };
    } catch (err) {
      const { failure, detail } = classifyFetchError(err);
      throw new ProbeStop({
        ok: false,
        step,
        failure,
        message: `Cannot ${step} at ${url.host}: ${detail}`,
      });
    }
  };
  const expectOk = (step: S3ProbeStep, r: { res: Response; bytes: Uint8Array }) => {
    if (r.res.ok) return;
    const { failure, message } = classifyAnswer(
      step,
      r.res.status,
      s3ErrorCode(r.bytes),
      target.bucket,
    );
    throw new ProbeStop({ ok: false, step, failure, message, status: r.res.status });
  };

  try {
    const probe = new TextEncoder().encode(
      `Capstan connection test ${new Date(started).toISOString()} ${crypto.randomUUID()}\n`,
    );
    expectOk("write", await send("write", "PUT", probe));
    const read = await send("read", "GET");
    expectOk("read", read);
    if (read.bytes.length !== probe.length || !read.bytes.every((b, i) => b === probe[i])) {
      // Leave nothing behind even so; a refused delete is the lesser news here.
      await send("delete", "DELETE").catch(() => {});
      return {
        ok: false,
        step: "read",
        failure: "mismatch",
        message:
          `The probe object read back differs from what was written (${read.bytes.length} bytes, not ${probe.length})`,
        status: read.res.status,
      };
    }
    expectOk("delete", await send("delete", "DELETE"));
    return { ok: true, elapsedMs: Date.now() - started };
  } catch (err) {
    if (err instanceof ProbeStop) return scrub(err.result);
    throw err;
  } finally {
    client?.close();
  }
}

/** Ends a probe early with its result. */
class ProbeStop extends Error {
  constructor(readonly result: S3ProbeResult) {
    super("probe stopped");
  }
}
