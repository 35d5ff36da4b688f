import assert from "node:assert/strict";
import {
  containerName,
  containerRef,
  DockerInputError,
  imageRef,
  networkName,
  signalName,
  sinceValue,
  splitImageRef,
  volumeName,
} from "./validate.ts";
import { HOSTILE_NAMES as HOSTILE } from "./testing.ts";

function assertRefused(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DockerInputError, `expected DockerInputError, got ${err}`);
    assert.equal(err.field, field);
    return true;
  });
}

Deno.test("containerRef() behaviour: accepts names and hex ids", () => {
  assert.equal(containerRef("web"), "web");
  assert.equal(containerRef("my_app.v2-1"), "my_app.v2-1");
  assert.equal(containerRef("0123456789ab"), "0123456789ab");
  assert.equal(containerRef("a".repeat(64)), "a".repeat(64));
  assert.equal(containerRef("A".repeat(128)), "A".repeat(128));
});

Deno.test("containerRef() behaviour: refuses hostile input naming the field", () => {
  for (const bad of [...HOSTILE, "A".repeat(129), "/web"]) {
    assertRefused(() => containerRef(bad), "container");
  }
  assertRefused(() => containerRef(42), "container");
  assertRefused(() => containerRef(undefined, "id"), "id");
});

Deno.test("containerName() behaviour: same rule as refs, field defaults to name", () => {
  assert.equal(containerName("a"), "a");
  for (const bad of HOSTILE) assertRefused(() => containerName(bad), "name");
});

Deno.test("imageRef() behaviour: accepts real-world references", () => {
  for (
    const ok of [
      "busybox",
      "busybox:1.36",
      "capstan-test/busybox:latest",
      "library/nginx:1.25-alpine",
      "ghcr.io/owner/app:v1.2.3",
      "registry.local:5000/team/app",
      "127.0.0.1:5000/x/y:z",
      "my_org/my__app",
      `alpine@sha256:${"a".repeat(64)}`,
      `repo/app:tag@sha256:${"b".repeat(64)}`,
      `sha256:${"c".repeat(64)}`,
      "f0b3d036fa05",
    ]
  ) {
    assert.equal(imageRef(ok), ok);
  }
});

Deno.test("imageRef() behaviour: refuses hostile, uppercase-path and over-long references", () => {
  for (
    const bad of [
      ...HOSTILE,
      "Busybox",
      "repo//app",
      "repo/app:",
      "repo/app@sha256:short",
      "/app",
      "app/",
      `r/${"a".repeat(260)}`,
      "app:tag with space",
    ]
  ) {
    assertRefused(() => imageRef(bad), "image");
  }
});

Deno.test("networkName() behaviour: names and ids pass, hostile input is refused", () => {
  assert.equal(networkName("bridge"), "bridge");
  assert.equal(networkName("capstan_net-1"), "capstan_net-1");
  for (const bad of HOSTILE) assertRefused(() => networkName(bad), "network");
});

Deno.test("volumeName() behaviour: needs two characters like Docker's rule", () => {
  assert.equal(volumeName("db-data"), "db-data");
  assertRefused(() => volumeName("a"), "volume");
  for (const bad of HOSTILE) assertRefused(() => volumeName(bad), "volume");
});

Deno.test("signalName() behaviour: signal names and numbers only", () => {
  for (const ok of ["SIGKILL", "TERM", "9", "SIGRTMIN+3"]) assert.equal(signalName(ok), ok);
  for (const bad of ["", "kill", "SIG KILL", "9;", "123"]) {
    assertRefused(() => signalName(bad), "signal");
  }
});

Deno.test("sinceValue() behaviour: unix seconds with optional fraction", () => {
  assert.equal(sinceValue(1700000000), "1700000000");
  assert.equal(sinceValue(1700000000.5), "1700000000.5");
  assert.equal(sinceValue("1700000000.123456789"), "1700000000.123456789");
  assert.equal(sinceValue(0), "0");
  for (const bad of [-1, NaN, Infinity, 1e13]) assertRefused(() => sinceValue(bad), "since");
  for (const bad of ["", "10m", "2024-01-01", "1;2"]) assertRefused(() => sinceValue(bad), "since");
});

Deno.test("splitImageRef() behaviour: separates tag or digest, defaults to latest", () => {
  assert.deepEqual(splitImageRef("busybox"), { name: "busybox", tag: "latest" });
  assert.deepEqual(splitImageRef("a/b:1"), { name: "a/b", tag: "1" });
  assert.deepEqual(splitImageRef("reg:5000/a/b"), { name: "reg:5000/a/b", tag: "latest" });
  assert.deepEqual(splitImageRef("reg:5000/a/b:2"), { name: "reg:5000/a/b", tag: "2" });
  const d = `sha256:${"a".repeat(64)}`;
  assert.deepEqual(splitImageRef(`a/b@${d}`), { name: "a/b", tag: d });
});
