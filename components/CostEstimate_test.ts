import assert from "node:assert/strict";
import { estimateText, proposedServices, reserves } from "./CostEstimate.tsx";

const MIB = 2 ** 20;
const base = [
  { replicas: 2, cpus: 0.5, memory_bytes: 0 },
  { replicas: 1, cpus: 0, memory_bytes: 256 * MIB },
];
const fields = { replicas: "r", cpus: "c", memory_mib: "m", service: "s" };
const form = (v: Record<string, string>) => (n: string) => v[n];

Deno.test("proposedServices: the form's numbers change the chosen service only", () => {
  assert.deepEqual(
    proposedServices(base, 0, fields, form({ r: "3", c: "1.25", m: "512" })),
    [{ replicas: 3, cpus: 1.25, memory_bytes: 512 * MIB }, base[1]],
  );
  // The service select picks by name; an unknown name keeps the index.
  assert.deepEqual(
    proposedServices(base, 0, { replicas: "r", service: "s" }, form({ r: "4", s: "db" }), [
      "web",
      "db",
    ]),
    [base[0], { ...base[1], replicas: 4 }],
  );
  // Blank replicas is the form's default 1, blank reservations none.
  assert.deepEqual(
    proposedServices(base, 0, fields, form({ r: "", c: "", m: "" })),
    [{ replicas: 1, cpus: 0, memory_bytes: 0 }, base[1]],
  );
});

Deno.test("proposedServices: what the app form would refuse gives no figure", () => {
  const bad: Record<string, string>[] = [{ r: "two" }, { r: "101" }, { c: "0.1234" }, { c: "-1" }, {
    m: "1.5",
  }];
  for (const v of bad) {
    assert.equal(proposedServices(base, 0, fields, form(v)), undefined, JSON.stringify(v));
  }
});

Deno.test("estimateText and reserves", () => {
  assert.equal(
    estimateText({ kind: "priced", currency: "EUR", per_hour: 165, per_month: 120450 }),
    "≈ 1.65 EUR per hour · 1\u202f204.50 EUR per month",
  );
  assert.match(estimateText({ kind: "unreserved" }), /unreserved resources are not billed/);
  assert.equal(reserves([{ replicas: 3, cpus: 0, memory_bytes: 0 }]), false);
  // Zero replicas with a reservation is priced (at 0), not "unreserved".
  assert.equal(reserves([{ replicas: 0, cpus: 1, memory_bytes: 0 }]), true);
});
