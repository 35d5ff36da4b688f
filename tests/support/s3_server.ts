/**
 * A real S3-compatible server for tests: `s3rver` (npm) run in-process on a loopback port, over
 * HTTPS with a throwaway CA made by `openssl` for this one server (127.0.0.1 and localhost), its
 * objects in a temporary directory and one bucket created. HTTPS only (DESIGN §6): over plain HTTP
 * restic's S3 client sends aws-chunked uploads that s3rver stores undecoded, and the next backup
 * fails reading them back.
 *
 * s3rver checks that a SigV4 request names a known access key but never checks its signature, so
 * a request signed with a wrong secret would pass; a check in front of it recomputes every SigV4
 * header signature with the one secret and answers 403 SignatureDoesNotMatch, as S3 does. restic
 * (its own signer) passing through that check is what shows the check itself is right.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as NodeHttpServer } from "node:https";
import { AwsV4Signer } from "aws4fetch";
import S3rver from "s3rver";

/** A running S3-compatible server. */
export interface TestS3Server {
  /** `https://127.0.0.1:<port>`. */
  endpoint: string;
  /** The CA that signed the server's certificate (PEM), for Deno.createHttpClient({ caCerts }). */
  caPem: string;
  /** The same CA as a file, for `restic --cacert`. */
  caFile: string;
  /** s3rver accepts exactly this key pair (any other secret gets a 403 signature mismatch). */
  accessKeyId: "S3RVER";
  secretAccessKey: "S3RVER";
  /** The bucket created at start. */
  bucket: string;
  close(): Promise<void>;
}

/** A CA and a server certificate it signed, as PEM files in `dir`. */
export interface TestCertificates {
  caPem: string;
  caFile: string;
  keyPem: string;
  certPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!r.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
}

/**
 * Makes a throwaway CA (valid two days) and a server certificate it signs for 127.0.0.1, ::1 and
 * localhost, in `dir`. A certificate that is its own CA would not do: rustls (Deno's fetch) refuses
 * a CA certificate used as the end entity.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Capstan test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl(
    ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
    dir,
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
    ].join("\n") + "\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-set_serial",
    String(Date.now()),
    "-days",
    "2",
    "-extfile",
    "server.ext",
    "-out",
    "server.pem",
  ], dir);
  return {
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    caFile: `${dir}/ca.pem`,
    keyPem: await Deno.readTextFile(`${dir}/server.key`),
    certPem: await Deno.readTextFile(`${dir}/server.pem`),
  };
}

/** Starts s3rver over HTTPS on a free loopback port with `bucket` created. */
export async function startS3Server(
  opts: { bucket?: string } = {},
): Promise<TestS3Server> {
  const bucket = opts.bucket ?? "capstan-test";
  const dir = await Deno.makeTempDir({ prefix: "capstan-s3-" });
  try {
    const certs = await makeTestCertificates(dir);
    const server = new S3rver({
      address: "127.0.0.1",
      port: 0,
      silent: true,
      directory: `${dir}/objects`,
      key: certs.keyPem,
      cert: certs.certPem,
      configureBuckets: [{ name: bucket }],
    });
    const handle = server.callback.bind(server);
    server.callback = () => {
      const koa = handle();
      return (req: IncomingMessage, res: ServerResponse) => {
        signatureMatches(req, "S3RVER", "S3RVER").then((ok) => {
          if (ok) return koa(req, res);
          res.writeHead(403, { "content-type": "application/xml", connection: "close" });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
              "<Message>The request signature we calculated does not match the signature you " +
              "provided.</Message></Error>",
          );
        }, () => {
          res.writeHead(400, { connection: "close" });
          res.end();
        });
      };
    };
    const { port } = await server.run();
    // Under Deno's node:https a second request on a kept-alive connection is never answered
    // (seen with restic and curl: the first request on a connection succeeds, the next hangs), so
    // every response closes its connection and each request comes on a fresh one.
    const http = (server as unknown as { httpServer: NodeHttpServer }).httpServer;
    http.prependListener("request", (_req, res) => res.setHeader("Connection", "close"));
    return {
      endpoint: `https://127.0.0.1:${port}`,
      caPem: certs.caPem,
      caFile: certs.caFile,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      bucket,
      close: async () => {
        await server.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Whether a request's SigV4 Authorization header for `knownKeyId` carries the signature `secret`
 * gives; any other request (anonymous, presigned, another key) is left to s3rver.
 */
async function signatureMatches(
  req: IncomingMessage,
  knownKeyId: string,
  secret: string,
): Promise<boolean> {
  const auth = req.headers.authorization ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/
      .exec(auth);
  // Not SigV4 in a header, or a key s3rver does not know (it answers InvalidAccessKeyId).
  if (!m || m[1] !== knownKeyId) return true;
  const [, accessKeyId, region, service, signedHeaders, signature] = m;
  const headers = new Headers();
  for (const name of signedHeaders.split(";")) {
    const value = req.headers[name];
    if (name !== "host" && value !== undefined) {
      headers.set(name, Array.isArray(value) ? value.join(",") : value);
    }
  }
  const signer = new AwsV4Signer({
    method: req.method,
    url: `https://${req.headers.host}${req.url}`,
    headers,
    accessKeyId,
    secretAccessKey: secret,
    region,
    service,
    datetime: String(req.headers["x-amz-date"] ?? ""),
    allHeaders: true,
  });
  return signer.signedHeaders === signedHeaders && await signer.signature() === signature;
}
