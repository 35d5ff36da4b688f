import assert from "node:assert/strict";
import { assertMayCreate, isDockerAdmin, powerfulFields } from "./container_policy.ts";
import type { DomainError } from "../errors.ts";
import { statusOf } from "../../tests/support/errors.ts";
import type { ContainerCreateSpec } from "../protocol/ops.ts";

const plain = { image: "busybox", name: "web", cmd: ["sh"], volumes: [] };
const POWERFUL: [string, Partial<ContainerCreateSpec>][] = [
  ["privileged", { privileged: true }],
  ["network_mode", { network_mode: "host" }],
  ["pid_mode", { pid_mode: "host" }],
  ["devices", { devices: ["/dev/fuse"] }],
  ["cap_add", { cap_add: ["NET_ADMIN"] }],
  ["binds", { binds: ["/:/host"] }],
];

Deno.test("assertMayCreate() behaviour: members and viewers are refused each powerful option by name", () => {
  for (const role of ["member", "viewer"] as const) {
    for (const [field, extra] of POWERFUL) {
      assert.throws(
        () => assertMayCreate({ role }, { ...plain, ...extra }),
        (e: DomainError) =>
          statusOf(e) === 403 && Object.keys(e.fields ?? {}).join() === field &&
          e.message.includes(field),
        `${role} with ${field}`,
      );
    }
  }
});

Deno.test("assertMayCreate() behaviour: several powerful options are all named at once", () => {
  assert.throws(
    () => assertMayCreate({ role: "member" }, { ...plain, privileged: true, binds: ["/a:/b"] }),
    (e: DomainError) =>
      statusOf(e) === 403 && Object.keys(e.fields!).sort().join() === "binds,privileged",
  );
});

Deno.test("assertMayCreate() behaviour: admins and owners may set every option", () => {
  const all = Object.assign({ ...plain }, ...POWERFUL.map(([, x]) => x));
  for (const role of ["admin", "owner"] as const) {
    assertMayCreate({ role }, all);
    assertMayCreate({ role, tokenScope: "write" }, all);
  }
});

Deno.test("assertMayCreate() behaviour: plain containers are fine for members; harmless values are not powerful", () => {
  assertMayCreate({ role: "member" }, plain);
  assertMayCreate({ role: "member" }, {
    ...plain,
    privileged: false,
    network_mode: "bridge",
    devices: [],
    cap_add: [],
    binds: [],
  });
  assert.deepEqual(powerfulFields({ ...plain, network_mode: "my-net" }), {});
});

Deno.test("assertMayCreate() behaviour: read-scoped tokens may create nothing, not even as owner", () => {
  for (const spec of [plain, { ...plain, privileged: true }]) {
    assert.throws(
      () => assertMayCreate({ role: "owner", tokenScope: "read" }, spec),
      (e: DomainError) => statusOf(e) === 403,
    );
  }
  assert.equal(isDockerAdmin({ role: "owner", tokenScope: "read" }), false);
  assert.equal(isDockerAdmin({ role: "admin" }), true);
  assert.equal(isDockerAdmin({ role: "member", tokenScope: "write" }), false);
});
