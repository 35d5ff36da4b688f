import assert from "node:assert/strict";
import { specFromForm } from "./container_form.ts";

const HOST = "01900000-0000-7000-8000-000000000000";

Deno.test("specFromForm() behaviour: reads every field, one item per line", () => {
  const r = specFromForm({
    host: HOST,
    image: "capstan-test/busybox:latest",
    name: "web",
    cmd: "sh\r\n-c\r\necho 'a b' && sleep 1\r\n",
    env: "A=1\nB=x=y\n\nEMPTY=",
    ports: "8080:80/tcp\n127.0.0.1:5353:53/udp\n9000\n[::1]:81:81",
    volumes: "data:/data\ncache:/var/cache:ro",
    restart_policy: "unless-stopped",
    labels: "team=core\ncapstan.test=1",
    cpus: "0.5",
    memory_mib: "64",
    start: "on",
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.equal(r.hostId, HOST);
  assert.equal(r.start, true);
  assert.deepEqual(r.spec.cmd, ["sh", "-c", "echo 'a b' && sleep 1"]);
  assert.deepEqual(r.spec.env, { A: "1", B: "x=y", EMPTY: "" });
  assert.deepEqual(r.spec.ports, [
    { container_port: 80, protocol: "tcp", host_port: 8080 },
    { container_port: 53, protocol: "udp", host_port: 5353, host_ip: "127.0.0.1" },
    { container_port: 9000, protocol: "tcp" },
    { container_port: 81, protocol: "tcp", host_port: 81, host_ip: "::1" },
  ]);
  assert.deepEqual(r.spec.volumes, [
    { name: "data", target: "/data", read_only: false },
    { name: "cache", target: "/var/cache", read_only: true },
  ]);
  assert.equal(r.spec.restart_policy, "unless-stopped");
  assert.deepEqual(r.spec.labels, { team: "core", "capstan.test": "1" });
  assert.equal(r.spec.cpus, 0.5);
  assert.equal(r.spec.memory_bytes, 64 * 1024 * 1024);
  assert.equal(r.spec.privileged, false);
});

Deno.test("specFromForm() behaviour: each problem is reported on its field, with the line", () => {
  const r = specFromForm({
    host: "",
    image: "Not An Image",
    name: "; $() | &",
    env: "A=1\nnot a pair",
    ports: "80\nhttp",
    volumes: "../etc:/x",
    cpus: "lots",
    memory_mib: "1",
    restart_policy: "sometimes",
    labels: "ok=1\nbad key=2",
  });
  assert.ok(!r.ok);
  assert.deepEqual(Object.keys(r.errors).sort(), [
    "cpus",
    "env",
    "host",
    "image",
    "labels",
    "memory_mib",
    "name",
    "ports",
    "restart_policy",
    "volumes",
  ]);
  assert.match(r.errors.env, /^line 2: /);
  assert.match(r.errors.ports, /^line 2: /);
  assert.match(r.errors.memory_mib, /6 MiB/);
  assert.match(r.errors.volumes, /^line 1: /);
});

Deno.test("specFromForm() behaviour: advanced options are read (the policy decides on them)", () => {
  const r = specFromForm({
    host: HOST,
    image: "busybox",
    privileged: "on",
    network_mode: "host",
    pid_mode: "host",
    devices: "/dev/fuse",
    cap_add: "NET_ADMIN\nSYS_TIME",
    binds: "/srv/data:/data:ro",
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.equal(r.spec.privileged, true);
  assert.equal(r.spec.network_mode, "host");
  assert.equal(r.spec.pid_mode, "host");
  assert.deepEqual(r.spec.devices, ["/dev/fuse"]);
  assert.deepEqual(r.spec.cap_add, ["NET_ADMIN", "SYS_TIME"]);
  assert.deepEqual(r.spec.binds, ["/srv/data:/data:ro"]);
  assert.equal(r.start, false);
});
