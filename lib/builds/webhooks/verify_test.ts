import assert from "node:assert/strict";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { verifyDelivery } from "./verify.ts";
import { type Provider, PROVIDERS } from "./providers.ts";
import { hmacHex, pushBody, signWebhook } from "../../../tests/support/webhook_signing.ts";

const SECRET = "s3cret-for-tests-only";
const enc = (s: string) => new TextEncoder().encode(s);

/** The signature (or token) headers of each provider, the ones a missing-header test removes. */
const PROOF_HEADERS: Record<Provider, string[]> = {
  github: ["x-hub-signature-256"],
  gitlab: ["x-gitlab-token"],
  bitbucket: ["x-hub-signature"],
  gitea: ["x-gitea-signature", "x-forgejo-signature"],
};

for (const provider of PROVIDERS) {
  Deno.test(`verifyDelivery() ${provider}: right secret passes, wrong or missing proof is refused`, async () => {
    const body = enc(pushBody(provider));
    const headers = await signWebhook(provider, body, SECRET);
    assert.deepEqual(await verifyDelivery(provider, headers, body, SECRET), { ok: true });

    assert.deepEqual(await verifyDelivery(provider, headers, body, SECRET + "x"), {
      ok: false,
      reason: "bad_signature",
    });
    const other = await signWebhook(provider, body, "another secret");
    assert.deepEqual(await verifyDelivery(provider, other, body, SECRET), {
      ok: false,
      reason: "bad_signature",
    });

    const bare = new Headers(headers);
    for (const h of PROOF_HEADERS[provider]) bare.delete(h);
    assert.deepEqual(await verifyDelivery(provider, bare, body, SECRET), {
      ok: false,
      reason: "missing_signature",
    });
    for (const h of PROOF_HEADERS[provider]) bare.set(h, "");
    assert.deepEqual(await verifyDelivery(provider, bare, body, SECRET), {
      ok: false,
      reason: "missing_signature",
    });

    // An empty secret turns the endpoint off, even for a delivery "signed" with it.
    for (const h of [headers, bare]) {
      assert.deepEqual(await verifyDelivery(provider, h, body, ""), {
        ok: false,
        reason: "disabled",
      });
    }
  });
}

for (const provider of ["github", "bitbucket", "gitea"] as const) {
  Deno.test(`verifyDelivery() ${provider}: one changed byte of the body is refused`, async () => {
    const body = enc(pushBody(provider));
    const headers = await signWebhook(provider, body, SECRET);
    for (const at of [0, body.length >> 1, body.length - 1]) {
      const tampered = body.slice();
      tampered[at] ^= 0x01;
      assert.deepEqual(await verifyDelivery(provider, headers, tampered, SECRET), {
        ok: false,
        reason: "bad_signature",
      }, `byte ${at}`);
    }
    assert.deepEqual(await verifyDelivery(provider, headers, body.subarray(1), SECRET), {
      ok: false,
      reason: "bad_signature",
    });
  });
}

Deno.test("verifyDelivery() gitlab: the token does not cover the body (GitLab signs nothing)", async () => {
  // Documented limit of GitLab's scheme, kept visible: only TLS protects the body in transit.
  const body = enc(pushBody("gitlab"));
  const headers = await signWebhook("gitlab", body, SECRET);
  const tampered = body.slice();
  tampered[10] ^= 0x01;
  assert.deepEqual(await verifyDelivery("gitlab", headers, tampered, SECRET), { ok: true });
  // A token that differs only in length, or only in its last character, is refused.
  // (Surrounding spaces are no difference: HTTP trims header values before anyone sees them.)
  const near = [SECRET.slice(0, -1), SECRET + "!", SECRET.slice(0, -1) + "X", "x".repeat(5000)];
  for (const [i, token] of near.entries()) {
    headers.set("x-gitlab-token", token);
    assert.deepEqual(await verifyDelivery("gitlab", headers, body, SECRET), {
      ok: false,
      reason: "bad_signature",
    }, `near-miss token #${i}`);
  }
});

Deno.test("verifyDelivery() checks the raw bytes, also where they are not valid UTF-8", async () => {
  // A BOM and invalid sequences: decoding to a string would change or lose these bytes.
  const body = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xff, 0xfe, 0x22, 0x7d]);
  const sibling = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0xfe, 0xff, 0x22, 0x7d]);
  assert.equal(new TextDecoder().decode(body), new TextDecoder().decode(sibling));
  for (const provider of ["github", "bitbucket", "gitea"] as const) {
    const headers = await signWebhook(provider, body, SECRET);
    assert.deepEqual(await verifyDelivery(provider, headers, body, SECRET), { ok: true });
    assert.equal((await verifyDelivery(provider, headers, sibling, SECRET)).ok, false);
  }
});

Deno.test("verifyDelivery() refuses malformed signatures as bad, never throws", async () => {
  const body = enc('{"ref":"refs/heads/main"}');
  const hex = await hmacHex(SECRET, body);
  const good = new Headers({ "x-hub-signature-256": `sha256=${hex.toUpperCase()}` });
  assert.deepEqual(await verifyDelivery("github", good, body, SECRET), { ok: true }, "hex case");
  const cases: [Provider, string, string][] = [
    ["github", "x-hub-signature-256", hex],
    ["github", "x-hub-signature-256", `sha1=${hex}`],
    ["github", "x-hub-signature-256", `sha256=${hex.slice(2)}`],
    ["github", "x-hub-signature-256", `sha256=${hex}00`],
    ["github", "x-hub-signature-256", `sha256=${"g".repeat(64)}`],
    ["github", "x-hub-signature-256", `sha256=${hex}${" ".repeat(300)}x`],
    ["bitbucket", "x-hub-signature", hex],
    ["gitea", "x-gitea-signature", `sha256=${hex}`],
    ["gitea", "x-gitea-signature", "é".repeat(64)],
  ];
  for (const [provider, name, value] of cases) {
    const result = await verifyDelivery(provider, new Headers({ [name]: value }), body, SECRET);
    assert.deepEqual(result, { ok: false, reason: "bad_signature" }, `${provider} ${value}`);
  }
  // Input the types forbid, as a caller holding `unknown` might pass it.
  const weird = [
    () => verifyDelivery("svn" as Provider, good, body, SECRET),
    () => verifyDelivery("github", good, null as unknown as Uint8Array, SECRET),
    () => verifyDelivery("github", good, body, undefined as unknown as string),
  ];
  for (const call of weird) assert.equal((await call()).ok, false);
  assert.deepEqual(await verifyDelivery("github", good, new Uint8Array(), SECRET), {
    ok: false,
    reason: "bad_signature",
  });
});

Deno.test("verifyDelivery() gitea: Forgejo's own header alone verifies", async () => {
  const body = enc(pushBody("gitea"));
  const headers = await signWebhook("gitea", body, SECRET, { forgejo: true });
  headers.delete("x-gitea-signature");
  assert.deepEqual(await verifyDelivery("gitea", headers, body, SECRET), { ok: true });
  headers.set("x-forgejo-signature", await hmacHex("wrong", body));
  assert.deepEqual(await verifyDelivery("gitea", headers, body, SECRET), {
    ok: false,
    reason: "bad_signature",
  });
});

Deno.test("verifyDelivery() github agrees with @octokit/webhooks-methods both ways", async () => {
  const text = pushBody("github");
  const theirs = new Headers({ "x-hub-signature-256": await octokitSign(SECRET, text) });
  assert.deepEqual(await verifyDelivery("github", theirs, enc(text), SECRET), { ok: true });
  const ours = await signWebhook("github", text, SECRET);
  assert.equal(await octokitVerify(SECRET, text, ours.get("x-hub-signature-256")!), true);
});

Deno.test("verifyDelivery() compares only with timingSafeEqual (code review guard)", async () => {
  // No timing test (too noisy on a shared machine): this pins the reviewed property instead.
  const src = await Deno.readTextFile(new URL("./verify.ts", import.meta.url));
  assert.match(src, /import \{[^}]*timingSafeEqual[^}]*\} from "node:crypto"/);
  assert.equal(src.match(/timingSafeEqual\(/g)?.length, 2, "the HMAC and the token path");
  assert.doesNotMatch(
    src,
    /(expected|given|sent|secret|hex)\s*[!=]==?\s*(expected|given|sent|secret)\b/,
  );
});
