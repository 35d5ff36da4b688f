import assert from "node:assert/strict";
import { certificate } from "./certificate.ts";
import type { CertificateChange } from "./kind.ts";
import { harness, lastInfo, rule, T0 } from "./testing.ts";

const DAY = 24 * 3600_000;
const change = (
  state: CertificateChange["state"],
  notAfter: number | null,
  detail: string | null = null,
): CertificateChange => ({
  org_id: "o1",
  route_id: "r1",
  hostname: "shop.example.com",
  state,
  detail,
  not_after: notAfter,
});

Deno.test("certificate fires while a hostname's certificate is expiring or failed, once, and resolves when it is active again", async () => {
  const r = rule({ name: "Certs", kind: "event", event: "certificate" });
  const h = harness([r]);
  certificate.certificateChange!(h.at(T0), r, change("active", T0 + 60 * DAY));
  assert.deepEqual(h.take(), [], "an active certificate is quiet");

  certificate.certificateChange!(h.at(T0), r, change("expiring", T0 + 9 * DAY + 3600_000));
  assert.equal((await lastInfo(h.ops))?.title, "Certificate of shop.example.com expires in 9 days");
  assert.deepEqual(h.take(), ["fire cert:shop.example.com firing 9"]);
  certificate.certificateChange!(h.at(T0 + 60_000), r, change("expiring", T0 + 9 * DAY));
  assert.deepEqual(h.take(), [], "already firing: not again");

  certificate.certificateChange!(h.at(T0 + DAY), r, change("active", T0 + 90 * DAY));
  assert.deepEqual(h.take(), ["resolve cert:shop.example.com ok 9"]);

  certificate.certificateChange!(
    h.at(T0 + 2 * DAY),
    r,
    change("failed", null, "no certificate from the CA after 15 minutes"),
  );
  const info = await lastInfo(h.ops);
  assert.equal(info?.title, "No certificate for shop.example.com");
  assert.match(info?.detail ?? "", /after 15 minutes/);
});

Deno.test("certificate rules are organization-wide: another scope is refused naming the field", () => {
  assert.throws(
    () =>
      rule({ name: "C", kind: "event", event: "certificate", scope: "label", scope_value: "a=b" }),
    (e: Error & { fields?: Record<string, string> }) => Boolean(e.fields?.scope),
  );
});
