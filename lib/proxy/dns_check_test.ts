import assert from "node:assert/strict";
import {
  checkDomain,
  createDnsResolver,
  dnsRecordsToCreate,
  type IngressTarget,
} from "./dns_check.ts";
import { startDnsServer, type TestDnsServer } from "../../tests/support/dns_server.ts";

// Documentation addresses (RFC 5737, RFC 3849): they only appear in DNS answers, nothing connects.
const INGRESS: IngressTarget = {
  ipv4: ["192.0.2.10"],
  ipv6: ["2001:db8::10"],
  cname: "ingress.capstan.test",
};
const ELSEWHERE = "198.51.100.7";

async function withDns(fn: (dns: TestDnsServer) => Promise<void>): Promise<void> {
  const dns = await startDnsServer({
    "ingress.capstan.test": { a: INGRESS.ipv4, aaaa: INGRESS.ipv6 },
  });
  try {
    await fn(dns);
  } finally {
    await dns.close();
  }
}

Deno.test("checkDomain() verified: A and AAAA at the ingress addresses", () =>
  withDns(async (dns) => {
    dns.set("shop.example.test", { a: ["192.0.2.10"], aaaa: ["2001:0db8:0:0::10"] });
    const r = await checkDomain("shop.example.test", INGRESS, createDnsResolver([dns.server]));
    assert.equal(r.status, "verified", r.detail);
    assert.deepEqual(r.found, { a: ["192.0.2.10"], aaaa: ["2001:db8::10"], cname: [] });
    assert.match(r.detail, /shop\.example\.test resolves to 192\.0\.2\.10, 2001:db8::10/);
  }));

Deno.test("checkDomain() verified: a CNAME chain ending at the ingress addresses", () =>
  withDns(async (dns) => {
    dns.set("www.example.test", { cname: "lb.example.test" });
    dns.set("lb.example.test", { cname: "edge.hosting.test." });
    dns.set("edge.hosting.test", { a: ["192.0.2.10"] });
    const resolver = createDnsResolver([dns.server]);
    const r = await checkDomain("www.example.test", INGRESS, resolver);
    assert.equal(r.status, "verified", r.detail);
    assert.deepEqual(r.found, {
      a: ["192.0.2.10"],
      aaaa: [],
      cname: ["lb.example.test", "edge.hosting.test"],
    });
    assert.match(r.detail, /www\.example\.test → lb\.example\.test → edge\.hosting\.test/);

    // Through the ingress name: its addresses are the ingress's by definition.
    dns.set("blog.example.test", { cname: "ingress.capstan.test" });
    const viaName = await checkDomain("blog.example.test", INGRESS, resolver);
    assert.equal(viaName.status, "verified", viaName.detail);
    assert.deepEqual(viaName.found.cname, ["ingress.capstan.test"]);
  }));

Deno.test("checkDomain() pending while the name does not resolve (NXDOMAIN, NODATA), then verified", () =>
  withDns(async (dns) => {
    const resolver = createDnsResolver([dns.server]);
    const missing = await checkDomain("new.example.test", INGRESS, resolver);
    assert.equal(missing.status, "pending", missing.detail);
    assert.deepEqual(missing.found, { a: [], aaaa: [], cname: [] });
    assert.match(missing.detail, /does not resolve yet/);

    dns.set("new.example.test", {}); // the name exists, with no address yet (NODATA)
    const noData = await checkDomain("new.example.test", INGRESS, resolver);
    assert.equal(noData.status, "pending", noData.detail);

    dns.set("new.example.test", { cname: "ingress.capstan.test" });
    const created = await checkDomain("new.example.test", INGRESS, resolver);
    assert.equal(created.status, "verified", created.detail);
  }));

Deno.test("checkDomain() wrong_target: an A record elsewhere, a CNAME elsewhere", () =>
  withDns(async (dns) => {
    const resolver = createDnsResolver([dns.server]);
    dns.set("old.example.test", { a: [ELSEWHERE] });
    const a = await checkDomain("old.example.test", INGRESS, resolver);
    assert.equal(a.status, "wrong_target", a.detail);
    assert.deepEqual(a.found.a, [ELSEWHERE]);
    assert.match(a.detail, /198\.51\.100\.7 is not the ingress \(192\.0\.2\.10, 2001:db8::10/);

    dns.set("cdn.example.test", { cname: "shop.other-host.test" });
    dns.set("shop.other-host.test", { aaaa: ["2001:db8:ffff::1"] });
    const cname = await checkDomain("cdn.example.test", INGRESS, resolver);
    assert.equal(cname.status, "wrong_target", cname.detail);
    assert.deepEqual(cname.found, {
      a: [],
      aaaa: ["2001:db8:ffff::1"],
      cname: ["shop.other-host.test"],
    });
    assert.match(cname.detail, /cdn\.example\.test → shop\.other-host\.test/);

    dns.set("typo.example.test", { cname: "ingres.capstan.test" }); // resolves to nothing
    const dangling = await checkDomain("typo.example.test", INGRESS, resolver);
    assert.equal(dangling.status, "wrong_target", dangling.detail);
    assert.deepEqual(dangling.found.cname, ["ingres.capstan.test"]);

    dns.set("loop1.example.test", { cname: "loop2.example.test" });
    dns.set("loop2.example.test", { cname: "loop1.example.test" });
    const loop = await checkDomain("loop1.example.test", INGRESS, resolver);
    assert.equal(loop.status, "wrong_target", loop.detail);
    assert.match(loop.detail, /CNAME loop/);
  }));

Deno.test("checkDomain() mixed: one ingress address and one other → wrong_target naming the other", () =>
  withDns(async (dns) => {
    const resolver = createDnsResolver([dns.server]);
    dns.set("mixed.example.test", { a: ["192.0.2.10", ELSEWHERE] });
    const r = await checkDomain("mixed.example.test", INGRESS, resolver);
    assert.equal(r.status, "wrong_target", r.detail);
    assert.deepEqual(r.found.a, ["192.0.2.10", ELSEWHERE]);
    assert.match(r.detail, / 198\.51\.100\.7 is not the ingress/);

    // A right but AAAA elsewhere: IPv6 clients would miss the ingress.
    dns.set("v6.example.test", { a: ["192.0.2.10"], aaaa: ["2001:db8::99"] });
    const v6 = await checkDomain("v6.example.test", INGRESS, resolver);
    assert.equal(v6.status, "wrong_target", v6.detail);
    assert.match(v6.detail, /2001:db8::99 is not the ingress/);
  }));

Deno.test("checkDomain() timeout: a server that never answers → pending with the reason, within the bound", () =>
  withDns(async (dns) => {
    dns.set("slow.example.test", { a: ["192.0.2.10"] });
    dns.silent = true;
    const resolver = createDnsResolver([dns.server]);

    let t0 = Date.now();
    const r = await checkDomain("slow.example.test", INGRESS, resolver);
    const took = Date.now() - t0;
    assert.equal(r.status, "pending", r.detail);
    assert.match(r.detail, /no answer for the CNAME record of slow\.example\.test within [\d.]+ s/);
    assert.ok(took >= 1_000 && took < 4_000, `within the default 3 s query bound, took ${took} ms`);
    assert.ok(dns.queries.some((q) => q.name === "slow.example.test"), "the server was asked");

    // The whole check has its own bound, shorter than one query's here.
    t0 = Date.now();
    const whole = await checkDomain("slow.example.test", INGRESS, resolver, {
      totalTimeoutMs: 800,
    });
    const tookWhole = Date.now() - t0;
    assert.equal(whole.status, "pending", whole.detail);
    assert.match(whole.detail, /within 0\.8 s/);
    assert.ok(tookWhole < 2_000, `bounded by the 0.8 s total, took ${tookWhole} ms`);
  }));

Deno.test("checkDomain() pending, not verified, while a query fails: SERVFAIL, or AAAA unanswered", () =>
  withDns(async (dns) => {
    const resolver = createDnsResolver([dns.server]);
    dns.set("part.example.test", { a: ["192.0.2.10"], aaaa: ["2001:db8::10"] });
    dns.failing = true;
    const failed = await checkDomain("part.example.test", INGRESS, resolver);
    assert.equal(failed.status, "pending", failed.detail);
    // Deno's node:dns reports SERVFAIL as ENOTFOUND, so the detail reads as not resolving yet.
    assert.deepEqual(failed.found, { a: [], aaaa: [], cname: [] });

    // A at the ingress but AAAA unknown: IPv6 clients might go elsewhere, so not verified yet.
    dns.failing = false;
    dns.silent = ["AAAA"];
    const partial = await checkDomain("part.example.test", INGRESS, resolver, {
      queryTimeoutMs: 500,
    });
    assert.equal(partial.status, "pending", partial.detail);
    assert.deepEqual(partial.found.a, ["192.0.2.10"]);
    assert.match(partial.detail, /no answer for the AAAA record of part\.example\.test/);

    // An address elsewhere is certain even while another query fails.
    dns.set("part.example.test", { a: [ELSEWHERE] });
    const wrong = await checkDomain("part.example.test", INGRESS, resolver, {
      queryTimeoutMs: 500,
    });
    assert.equal(wrong.status, "wrong_target", wrong.detail);
  }));

Deno.test("checkDomain() IDN and wildcard hostnames: asked in punycode; a wildcard at a probe label", () =>
  withDns(async (dns) => {
    const resolver = createDnsResolver([dns.server]);
    dns.set("xn--bcher-kva.example.test", { a: ["192.0.2.10"] });
    const idn = await checkDomain("Bücher.Example.test.", INGRESS, resolver);
    assert.equal(idn.status, "verified", idn.detail);
    assert.ok(dns.queries.every((q) => /^[a-z0-9.-]+$/.test(q.name)), "only ASCII asked");
    assert.ok(dns.queries.some((q) => q.name === "xn--bcher-kva.example.test" && q.type === "A"));

    const wildcard = await checkDomain("*.apps.example.test", INGRESS, resolver);
    assert.equal(wildcard.status, "pending", wildcard.detail);
    dns.set("*.apps.example.test", { cname: "ingress.capstan.test" });
    const probed = await checkDomain("*.apps.example.test", INGRESS, resolver, {
      probeLabel: "capstan-probe-test",
    });
    assert.equal(probed.status, "verified", probed.detail);
    assert.ok(dns.queries.some((q) => q.name === "capstan-probe-test.apps.example.test"));
    assert.ok(!dns.queries.some((q) => q.name.startsWith("*")), "never asks for a literal *");
  }));

Deno.test("dnsRecordsToCreate() apex: A/AAAA; subdomain: CNAME to the ingress name, else A/AAAA", () => {
  const addresses = [
    { type: "A", name: "example.com", value: "192.0.2.10" },
    { type: "AAAA", name: "example.com", value: "2001:db8::10" },
  ];
  assert.deepEqual(dnsRecordsToCreate("example.com", INGRESS), addresses);
  // The apex by the Public Suffix List, not by counting labels.
  assert.deepEqual(dnsRecordsToCreate("shop.co.uk", INGRESS).map((r) => r.type), ["A", "AAAA"]);
  assert.deepEqual(dnsRecordsToCreate("shop.example.co.uk", INGRESS), [
    { type: "CNAME", name: "shop.example.co.uk", value: "ingress.capstan.test" },
  ]);
  assert.deepEqual(dnsRecordsToCreate("*.example.com", INGRESS), [
    { type: "CNAME", name: "*.example.com", value: "ingress.capstan.test" },
  ]);
  const noName = { ipv4: INGRESS.ipv4, ipv6: ["2001:0DB8::0:10"] };
  assert.deepEqual(
    dnsRecordsToCreate("www.example.com", noName),
    addresses.map((r) => ({ ...r, name: "www.example.com" })),
  );
  assert.deepEqual(dnsRecordsToCreate("example.com", { ipv4: [], ipv6: [], cname: "x.test" }), []);
  assert.deepEqual(dnsRecordsToCreate("Bücher.example.com.", INGRESS), [
    { type: "CNAME", name: "xn--bcher-kva.example.com", value: "ingress.capstan.test" },
  ]);
  assert.deepEqual(dnsRecordsToCreate("Bücher.de", INGRESS)[0], {
    type: "A",
    name: "xn--bcher-kva.de",
    value: "192.0.2.10",
  });
  assert.throws(() => dnsRecordsToCreate("not a name", INGRESS), /hostname/);
  assert.throws(
    () => dnsRecordsToCreate("www.example.com", { ...INGRESS, cname: "not a name" }),
    /The ingress name "not a name" is not a domain name/,
  );
});
