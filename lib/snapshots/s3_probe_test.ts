import assert from "node:assert/strict";
import { AwsV4Signer } from "aws4fetch";
import { freePort } from "../../tests/support/process.ts";
import { startS3Server, type TestS3Server } from "../../tests/support/s3_server.ts";
import {
  objectKey,
  probeS3Target,
  s3ObjectUrl,
  type S3ProbeResult,
  type S3Target,
  s3TargetSchema,
  signS3Request,
} from "./s3_probe.ts";

// --- SigV4 against the published vectors ---------------------------------------------------------

/**
 * AWS's S3 examples, "Signature Calculations for the Authorization Header: Transferring Payload in
 * a Single Chunk (AWS Signature Version 4)", section "Examples":
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * (the documentation's example key pair and bucket; the signatures are the published ones).
 */
const S3_EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
};
const EXAMPLE_DATE = "20130524T000000Z";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const credential = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

Deno.test("SigV4: AWS's S3 example PUT Object (test$file.text, payload hashed) signs as published", async () => {
  const body = new TextEncoder().encode("Welcome to Amazon S3.");
  const signed = await signS3Request(S3_EXAMPLE, {
    method: "PUT",
    url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
    headers: {
      "Date": "Fri, 24 May 2013 00:00:00 GMT",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
    },
    body,
  }, EXAMPLE_DATE);
  // Our signer hashed the payload itself: the example's x-amz-content-sha256.
  assert.equal(
    signed.headers.get("x-amz-content-sha256"),
    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
  );
  assert.equal(
    signed.headers.get("authorization"),
    `AWS4-HMAC-SHA256 ${credential}, ` +
      "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, " +
      "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
  );
});

Deno.test("SigV4: AWS's S3 examples GET Bucket Lifecycle and List Objects sign as published", async () => {
  for (
    const [query, signature] of [
      ["?lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"],
      ["?max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"],
    ]
  ) {
    const signed = await signS3Request(S3_EXAMPLE, {
      method: "GET",
      url: new URL(`https://examplebucket.s3.amazonaws.com/${query}`),
    }, EXAMPLE_DATE);
    assert.equal(
      signed.headers.get("authorization"),
      `AWS4-HMAC-SHA256 ${credential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, ` +
        `Signature=${signature}`,
      query,
    );
  }
});

Deno.test("SigV4: AWS's S3 example GET Object with Range signs as published (aws4fetch, all headers)", async () => {
  // aws4fetch leaves Range out of the signature unless told to sign every header; the probe sends
  // no Range, and this proves the signer's chain on the example that has one.
  const signer = new AwsV4Signer({
    method: "GET",
    url: "https://examplebucket.s3.amazonaws.com/test.txt",
    headers: { Range: "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA256 },
    ...S3_EXAMPLE,
    service: "s3",
    datetime: EXAMPLE_DATE,
    allHeaders: true,
  });
  assert.equal(
    await signer.authHeader(),
    `AWS4-HMAC-SHA256 ${credential}, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ` +
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
});

/**
 * The SigV4 test suite, cases get-vanilla and get-vanilla-query-order-key-case:
 * https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html
 * (service "service", region us-east-1, 2015-08-30T12:36:00Z, the suite's example key pair).
 */
Deno.test("SigV4: the test suite's get-vanilla and get-vanilla-query-order-key-case sign as published", async () => {
  for (
    const [url, signature] of [
      [
        "https://example.amazonaws.com/",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      ],
      [
        "https://example.amazonaws.com/?Param2=value2&Param1=value1",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
      ],
    ]
  ) {
    const signer = new AwsV4Signer({
      method: "GET",
      url,
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      service: "service",
      region: "us-east-1",
      datetime: "20150830T123600Z",
    });
    assert.equal(
      await signer.authHeader(),
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
        `SignedHeaders=host;x-amz-date, Signature=${signature}`,
      url,
    );
  }
});

// --- Addressing ----------------------------------------------------------------------------------

Deno.test("object URLs: path-style, virtual-host, an endpoint with a path prefix (Supabase)", async () => {
  const key = objectKey("/org-1//target-1/", ".capstan-probe-x");
  assert.equal(key, "org-1/target-1/.capstan-probe-x");
  assert.equal(objectKey("", "k"), "k");
  assert.equal(
    s3ObjectUrl({ endpoint: "https://127.0.0.1:9000", bucket: "b1", path_style: true }, key).href,
    "https://127.0.0.1:9000/b1/org-1/target-1/.capstan-probe-x",
  );
  assert.equal(
    s3ObjectUrl({
      endpoint: "https://s3.eu-west-1.amazonaws.com/",
      bucket: "b1",
      path_style: false,
    }, key)
      .href,
    "https://b1.s3.eu-west-1.amazonaws.com/org-1/target-1/.capstan-probe-x",
  );
  assert.equal(
    s3ObjectUrl({ endpoint: "https://minio.lan:9000", bucket: "b1", path_style: false }, "k").href,
    "https://b1.minio.lan:9000/k",
  );
  // A bucket subdomain of an address cannot resolve: refused before any request.
  assert.throws(
    () => s3ObjectUrl({ endpoint: "https://127.0.0.1:9000", bucket: "b1", path_style: false }, "k"),
    /path-style/,
  );
  const supabase = s3ObjectUrl({
    endpoint: "https://abcdefghijklmnop.supabase.co/storage/v1/s3",
    bucket: "backups",
    path_style: true,
  }, key);
  assert.equal(
    supabase.href,
    "https://abcdefghijklmnop.supabase.co/storage/v1/s3/backups/org-1/target-1/.capstan-probe-x",
  );
  // The endpoint's path is part of what is signed (the server checks the path it was sent).
  const signer = new AwsV4Signer({
    url: supabase.href,
    accessKeyId: "k",
    secretAccessKey: "s",
    service: "s3",
    region: "us-east-1",
  });
  assert.equal(
    (await signer.canonicalString()).split("\n")[1],
    "/storage/v1/s3/backups/org-1/target-1/.capstan-probe-x",
  );
});

Deno.test("the target schema: https only, S3 bucket names, a prefix without . or ..", () => {
  const base = {
    endpoint: "https://s3.example.com",
    bucket: "my-bucket",
    access_key_id: "AK",
    secret_access_key: "SK",
  };
  const ok = s3TargetSchema.parse(base);
  assert.equal(ok.region, "us-east-1");
  assert.equal(ok.prefix, "");
  assert.equal(ok.path_style, true);
  for (
    const bad of [
      { endpoint: "http://s3.example.com" },
      { endpoint: "https://user:pw@s3.example.com" },
      { endpoint: "https://s3.example.com/?x=1" },
      { endpoint: "ftp://s3.example.com" },
      { bucket: "My_Bucket" },
      { bucket: "ab" },
      { prefix: "a/../b" },
      { prefix: "a b" },
      { region: "US East" },
    ]
  ) {
    assert.equal(s3TargetSchema.safeParse({ ...base, ...bad }).success, false, JSON.stringify(bad));
  }
});

// --- The probe against a real S3-compatible server -----------------------------------------------

function targetOf(s3: TestS3Server, over: Partial<S3Target> = {}): S3Target {
  return s3TargetSchema.parse({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix: "org-1/target-1",
    access_key_id: s3.accessKeyId,
    secret_access_key: s3.secretAccessKey,
    path_style: true,
    ca_pem: s3.caPem,
    ...over,
  });
}

const allowPrivate = { allowPrivate: true, timeoutMs: 30_000 };

/** Lists every object key in the bucket (unsigned: s3rver allows it), to see nothing is left. */
async function keysIn(s3: TestS3Server): Promise<string[]> {
  const client = Deno.createHttpClient({ caCerts: [s3.caPem] });
  try {
    const xml = await (await fetch(`${s3.endpoint}/${s3.bucket}`, { client })).text();
    return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  } finally {
    client.close();
  }
}

function failed(r: S3ProbeResult) {
  assert.equal(r.ok, false, "the probe should have failed");
  return r as Extract<S3ProbeResult, { ok: false }>;
}

Deno.test("probe against the HTTPS s3rver: success, wrong secret, unknown key, missing bucket, untrusted CA, endpoint down", async () => {
  const s3 = await startS3Server({ bucket: "probe-bucket" });
  try {
    const ok = await probeS3Target(targetOf(s3), allowPrivate);
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual(await keysIn(s3), [], "the probe object is deleted");

    const wrongSecret = "Wr0ngSecret+Value/ThatMustNeverShow";
    const badSecret = failed(
      await probeS3Target(targetOf(s3, { secret_access_key: wrongSecret }), allowPrivate),
    );
    assert.equal(badSecret.step, "write");
    assert.equal(badSecret.failure, "credentials");
    assert.equal(badSecret.status, 403);
    assert.match(badSecret.message, /secret access key does not match.*SignatureDoesNotMatch/);

    const badKey = failed(
      await probeS3Target(
        targetOf(s3, { access_key_id: "NOSUCHKEY", secret_access_key: wrongSecret }),
        allowPrivate,
      ),
    );
    assert.equal(badKey.failure, "credentials");
    assert.match(badKey.message, /access key ID is not known.*InvalidAccessKeyId/);

    const noBucket = failed(
      await probeS3Target(targetOf(s3, { bucket: "no-such-bucket" }), allowPrivate),
    );
    assert.equal(noBucket.step, "write");
    assert.equal(noBucket.failure, "bucket_missing");
    assert.equal(noBucket.status, 404);
    assert.match(noBucket.message, /Bucket "no-such-bucket" does not exist/);

    const noCa = failed(await probeS3Target(targetOf(s3, { ca_pem: undefined }), allowPrivate));
    assert.equal(noCa.failure, "tls");
    assert.match(noCa.message, /unknown CA/);

    const down = failed(
      await probeS3Target(
        targetOf(s3, {
          endpoint: `https://127.0.0.1:${freePort()}`,
          secret_access_key: wrongSecret,
        }),
        allowPrivate,
      ),
    );
    assert.equal(down.step, "write");
    assert.equal(down.failure, "connect");
    assert.match(down.message, /nothing accepted the connection/);

    for (const r of [badSecret, badKey, noBucket, noCa, down]) {
      assert.ok(!r.message.includes(wrongSecret), r.message);
      assert.ok(!r.message.includes(s3.secretAccessKey), r.message);
    }
  } finally {
    await s3.close();
  }
});

Deno.test("probe: the outbound policy refuses before any request", async () => {
  const target = s3TargetSchema.parse({
    endpoint: "https://127.0.0.1:1",
    bucket: "bk1",
    access_key_id: "AK",
    secret_access_key: "SECRET-never-shown",
  });
  const loopback = failed(await probeS3Target(target, { allowPrivate: false }));
  assert.equal(loopback.step, "check");
  assert.equal(loopback.failure, "refused");
  assert.match(loopback.message, /loopback or private address/);

  const metadata = failed(
    await probeS3Target({ ...target, endpoint: "https://169.254.169.254" }, { allowPrivate: true }),
  );
  assert.equal(metadata.failure, "refused");
  assert.match(metadata.message, /link-local, metadata/);

  // A name that resolves to the metadata address is refused too (resolver injected: no DNS).
  const rebound = failed(
    await probeS3Target({ ...target, endpoint: "https://s3.example.test" }, {
      allowPrivate: true,
      resolve: () => Promise.resolve(["169.254.169.254"]),
    }),
  );
  assert.equal(rebound.failure, "refused");

  const unresolved = failed(
    await probeS3Target({ ...target, endpoint: "https://s3.example.test" }, {
      allowPrivate: true,
      resolve: () => Promise.resolve([]),
    }),
  );
  assert.equal(unresolved.failure, "dns");
  assert.match(unresolved.message, /Cannot resolve/);

  const virtualOnAddress = failed(
    await probeS3Target({ ...target, path_style: false }, { allowPrivate: true }),
  );
  assert.equal(virtualOnAddress.failure, "refused");
  assert.match(virtualOnAddress.message, /path-style/);
});
