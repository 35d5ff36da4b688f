/**
 * A real S3-compatible server for tests: `s3rver` (npm) run in-process on a loopback port, over
 * HTTPS with a throwaway CA made by `openssl` for this one server (127.0.0.1 and localhost), its
 * objects in a temporary directory and one bucket created. HTTPS only (DESIGN §6): over plain HTTP
 * restic's S3 client sends aws-chunked uploads that s3rver stores undecoded, and the next backup
 * fails reading them back.
 */
import type { Server as NodeHttpServer } from "node:https";
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
