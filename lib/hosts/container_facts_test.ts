import assert from "node:assert/strict";
import { containerFacts, displayCommand } from "./container_facts.ts";
import type { ContainerInspect } from "../docker/types.ts";

const inspect = {
  Id: "a".repeat(64),
  Name: "/web",
  Created: "2026-01-02T03:04:05.123456789Z",
  Path: "sh",
  Args: ["-c", "echo hi; sleep 1"],
  Image: "sha256:" + "b".repeat(64),
  RestartCount: 2,
  State: {
    Status: "exited",
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 137,
    Error: "",
    StartedAt: "2026-01-02T03:04:06Z",
    FinishedAt: "2026-01-02T03:05:06Z",
  },
  Config: {
    Tty: false,
    Image: "capstan-test/busybox:latest",
    Env: ["PATH=/bin", "DB_PASSWORD=hunter2", "EMPTY="],
    Labels: { "z.last": "1", "a.first": "2" },
  },
  HostConfig: {
    RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    NanoCpus: 1_500_000_000,
    Memory: 64 * 1024 * 1024,
  },
  NetworkSettings: {
    Ports: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }], "443/tcp": null },
    Networks: { bridge: { IPAddress: "172.17.0.2", IPPrefixLen: 16, Gateway: "172.17.0.1" } },
  },
  Mounts: [{
    Type: "volume",
    Name: "data",
    Source: "/var/lib/docker/x",
    Destination: "/data",
    RW: false,
  }],
} as ContainerInspect;

Deno.test("containerFacts() reduces inspect to display facts and never carries env values", () => {
  const f = containerFacts(inspect);
  assert.equal(f.name, "web");
  assert.equal(f.image, "capstan-test/busybox:latest");
  assert.equal(f.exitCode, 137);
  assert.equal(f.restartPolicy, "on-failure (at most 3 retries)");
  assert.equal(f.command, 'sh -c "echo hi; sleep 1"');
  assert.equal(f.cpuLimitCores, 1.5);
  assert.equal(f.memoryLimitBytes, 64 * 1024 * 1024);
  assert.deepEqual(f.ports, [
    { container: "80/tcp", host: "127.0.0.1:8080" },
    { container: "443/tcp", host: null },
  ]);
  assert.deepEqual(f.mounts, [{
    type: "volume",
    source: "data",
    destination: "/data",
    readOnly: true,
  }]);
  assert.deepEqual(f.networks, [{ name: "bridge", ip: "172.17.0.2/16", gateway: "172.17.0.1" }]);
  assert.deepEqual(f.labels, [["a.first", "2"], ["z.last", "1"]]);
  assert.deepEqual(f.envNames, ["DB_PASSWORD", "EMPTY", "PATH"]);
  assert.ok(!JSON.stringify(f).includes("hunter2"));
  assert.equal(f.createdAt, Date.parse("2026-01-02T03:04:05.123Z"));
});

Deno.test("containerFacts() shows a stopped container's configured ports, marked as not published now", () => {
  // What the engine says of a stopped container created with -p 127.0.0.1:18080:80 -p 443 --expose 9000.
  const stopped = {
    ...inspect,
    HostConfig: {
      ...inspect.HostConfig,
      PortBindings: {
        "443/tcp": [{ HostIp: "", HostPort: "" }],
        "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "18080" }],
      },
    },
    Config: { ...inspect.Config, ExposedPorts: { "443/tcp": {}, "80/tcp": {}, "9000/tcp": {} } },
    NetworkSettings: { ...inspect.NetworkSettings, Ports: {} },
  } as ContainerInspect;
  assert.deepEqual(containerFacts(stopped).ports, [
    { container: "80/tcp", host: "127.0.0.1:18080", configured: true },
    { container: "443/tcp", host: "0.0.0.0:(any free port)", configured: true },
    { container: "9000/tcp", host: null, configured: true },
  ]);
  // Running, the engine's live bindings are shown as they are.
  assert.ok(containerFacts(inspect).ports.every((p) => !("configured" in p)));
});

Deno.test("displayCommand() quotes only what needs it", () => {
  assert.equal(displayCommand(["nginx", "-g", "daemon off;"]), 'nginx -g "daemon off;"');
  assert.equal(displayCommand(["echo", ""]), 'echo ""');
});
