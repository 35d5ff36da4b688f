import assert from "node:assert/strict";
import {
  checkHost,
  checkUrl,
  checkUrlSyntax,
  classifyAddress,
  OutboundRefused,
  parseIp,
  redactUrl,
} from "./outbound.ts";

Deno.test("parseIp() reads IPv4 and IPv6 literals, and nothing else", () => {
  assert.deepEqual(parseIp("10.1.2.3"), Uint8Array.from([10, 1, 2, 3]));
  assert.equal(parseIp("010.1.2.3"), undefined, "no octal-looking octets");
  assert.equal(parseIp("256.1.1.1"), undefined);
  assert.equal(parseIp("example.com"), undefined);
  assert.equal(parseIp("::1")?.length, 16);
  assert.equal(parseIp("::ffff:169.254.169.254")?.[12], 169);
  assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), undefined);
  assert.equal(parseIp("1::2::3"), undefined);
});

Deno.test("classifyAddress() refuses link-local and metadata always, private unless allowed", () => {
  for (const a of ["169.254.169.254", "169.254.0.1", "0.0.0.0", "fe80::1", "::", "ff02::1"]) {
    assert.equal(classifyAddress(a), "blocked", a);
  }
  for (
    const a of ["::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "2002:a9fe:a9fe::1", "fd00:ec2::254"]
  ) {
    assert.equal(classifyAddress(a), "blocked", a);
  }
  assert.equal(classifyAddress("100.100.100.200"), "blocked");
  for (
    const a of [
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.5",
      "192.168.1.1",
      "::1",
      "fd12::1",
      "::ffff:127.0.0.1",
    ]
  ) {
    assert.equal(classifyAddress(a), "private", a);
  }
  for (const a of ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "172.32.0.1"]) {
    assert.equal(classifyAddress(a), null, a);
  }
});

Deno.test("checkUrlSyntax() allows only http(s) without credentials", () => {
  const p = { allowPrivate: true };
  assert.throws(() => checkUrlSyntax("file:///etc/passwd", p), /only http and https/);
  assert.throws(() => checkUrlSyntax("gopher://x/", p), /only http and https/);
  assert.throws(() => checkUrlSyntax("javascript:alert(1)", p), /only http and https/);
  assert.throws(() => checkUrlSyntax("not a url", p), /Invalid URL/);
  assert.throws(() => checkUrlSyntax("http://u:p@example.com/", p), /credentials/);
  assert.throws(() => checkUrlSyntax("http://169.254.169.254/latest/meta-data", p), /link-local/);
  assert.throws(() => checkUrlSyntax("http://[fe80::1]/", p), /link-local/);
  assert.throws(() => checkUrlSyntax("http://metadata.google.internal/", p), /metadata/);
  assert.throws(() => checkUrlSyntax("http://127.0.0.1/", { allowPrivate: false }), /private/);
  assert.equal(checkUrlSyntax("http://127.0.0.1:8/x", p).port, "8");
});

Deno.test("checkHost() checks every resolved address", async () => {
  const resolve = (map: Record<string, string[]>) => (h: string) => Promise.resolve(map[h] ?? []);
  const policy = {
    allowPrivate: false,
    resolve: resolve({
      "public.test": ["93.184.216.34"],
      "mixed.test": ["93.184.216.34", "10.0.0.1"],
      "rebind.test": ["169.254.169.254"],
    }),
  };
  assert.deepEqual(await checkHost("public.test", policy), ["93.184.216.34"]);
  await assert.rejects(() => checkHost("mixed.test", policy), /private/);
  await assert.rejects(
    () => checkHost("rebind.test", { ...policy, allowPrivate: true }),
    /link-local/,
  );
  await assert.rejects(() => checkHost("nowhere.test", policy), /Cannot resolve/);
  await assert.rejects(() => checkUrl("https://mixed.test/hook", policy), OutboundRefused);
  assert.ok(await checkUrl("https://public.test/hook", policy));
  await assert.rejects(() => checkHost("localhost", { allowPrivate: false }), /private/);
});

Deno.test("redactUrl() removes a secret URL and its path from messages", () => {
  const url = "https://hooks.slack.com/services/T0/B0/SECRET";
  const msg =
    `error sending request for url (${url}): connection refused; path /services/T0/B0/SECRET`;
  const out = redactUrl(msg, url);
  assert.ok(!out.includes("SECRET"), out);
});
