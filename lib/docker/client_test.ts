import assert from "node:assert/strict";
import {
  createDockerClient,
  type DockerClient,
  DockerError,
  DockerInputError,
  type FetchLike,
  type LogLine,
} from "./client.ts";
import { summarizeStats } from "./stats.ts";
import {
  dockerTestsIgnored,
  HOSTILE_NAMES,
  TEST_IMAGE,
  testLabels,
  testName,
  testRunFilters,
  withDocker,
} from "./testing.ts";

const SUITE = "docker-client";
const LABELS = testLabels(SUITE);
const RUN_FILTER = testRunFilters(SUITE);
const ignore = dockerTestsIgnored(SUITE);

// ---- helpers -------------------------------------------------------------------------------

interface Seen {
  method: string;
  url: URL;
  body: unknown;
}

/** A client whose transport is a function, so requests can be observed without an engine. */
function fakeClient(
  handler: (req: Seen, init: RequestInit) => Response | Promise<Response>,
  timeoutMs = 5_000,
): { docker: DockerClient; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (url, init) => {
    const req = {
      method: init.method ?? "GET",
      url: new URL(url),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    return await handler(req, init);
  };
  return { docker: createDockerClient({ fetch, timeoutMs }), seen };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A body that yields the given lines and then stays open until cancelled. */
function openBody(lines: string[], onCancel: () => void): ReadableStream<Uint8Array> {
  const te = new TextEncoder();
  return new ReadableStream({
    start(ctl) {
      for (const l of lines) ctl.enqueue(te.encode(l + "\n"));
    },
    cancel() {
      onCancel();
    },
  });
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function assertDockerError(p: Promise<unknown>, status: number, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DockerError, `expected DockerError, got ${err}`);
    assert.equal(err.status, status, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

/** Runs `fn` with an AbortSignal that fires after `ms`, clearing the timer afterwards. */
async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(new Error(`deadline of ${ms} ms passed`)), ms);
  try {
    return await fn(ctl.signal);
  } finally {
    clearTimeout(t);
  }
}

// ---- unit: validation before any request --------------------------------------------------

Deno.test("createDockerClient() behaviour: hostile names are refused before any request", async () => {
  const { docker, seen } = fakeClient(() => json(200, {}));
  const ops: [string, string, (bad: string) => Promise<unknown>][] = [
    ["inspectContainer", "container", (b) => docker.inspectContainer(b)],
    ["startContainer", "container", (b) => docker.startContainer(b)],
    ["stopContainer", "container", (b) => docker.stopContainer(b)],
    ["restartContainer", "container", (b) => docker.restartContainer(b)],
    ["killContainer", "container", (b) => docker.killContainer(b)],
    ["killContainer signal", "signal", (b) => docker.killContainer("web", b)],
    ["removeContainer", "container", (b) => docker.removeContainer(b)],
    ["containerLogs", "container", (b) => docker.containerLogs(b)],
    ["containerStats", "container", (b) => docker.containerStats(b)],
    ["containerStatsOnce", "container", (b) => docker.containerStatsOnce(b)],
    ["createContainer name", "name", (b) => docker.createContainer(b, { image: TEST_IMAGE })],
    ["createContainer image", "image", (b) => docker.createContainer("web", { image: b })],
    [
      "createContainer volume",
      "volumes[0].name",
      (b) =>
        docker.createContainer("web", { image: TEST_IMAGE, volumes: [{ name: b, target: "/d" }] }),
    ],
    ["inspectImage", "image", (b) => docker.inspectImage(b)],
    ["removeImage", "image", (b) => docker.removeImage(b)],
    ["pullImage", "image", (b) => docker.pullImage(b)],
    ["inspectNetwork", "network", (b) => docker.inspectNetwork(b)],
    ["removeNetwork", "network", (b) => docker.removeNetwork(b)],
    ["createNetwork", "name", (b) => docker.createNetwork({ name: b })],
    ["inspectVolume", "volume", (b) => docker.inspectVolume(b)],
    ["removeVolume", "volume", (b) => docker.removeVolume(b)],
    ["createVolume", "name", (b) => docker.createVolume({ name: b })],
  ];
  for (const [op, field, call] of ops) {
    for (const bad of HOSTILE_NAMES) {
      await assert.rejects(call(bad), (err: unknown) => {
        assert.ok(err instanceof DockerInputError, `${op}(${JSON.stringify(bad)}) gave ${err}`);
        assert.equal(err.field, field, op);
        return true;
      });
    }
  }
  assert.equal(seen.length, 0, "no request reached the transport");
  docker.close();
});

Deno.test("createContainer() behaviour: validates ports, env and limits before sending", async () => {
  const { docker, seen } = fakeClient(() => json(201, { Id: "x", Warnings: [] }));
  const bad: [string, Parameters<DockerClient["createContainer"]>[1]][] = [
    ["ports[0].containerPort", { image: "a", ports: [{ containerPort: 0 }] }],
    ["ports[0].hostPort", { image: "a", ports: [{ containerPort: 80, hostPort: 70000 }] }],
    ["ports[0].hostIp", { image: "a", ports: [{ containerPort: 80, hostPort: 1, hostIp: "a;b" }] }],
    ["env", { image: "a", env: { "A=B": "c" } }],
    ["nanoCpus", { image: "a", nanoCpus: 0.5 }],
    ["memoryBytes", { image: "a", memoryBytes: -1 }],
    ["volumes[0].target", { image: "a", volumes: [{ name: "data", target: "relative" }] }],
  ];
  for (const [field, spec] of bad) {
    await assert.rejects(docker.createContainer("web", spec), (err: unknown) => {
      assert.ok(err instanceof DockerInputError);
      assert.equal(err.field, field);
      return true;
    });
  }
  assert.equal(seen.length, 0);
  docker.close();
});

// ---- unit: request shape and error mapping --------------------------------------------------

Deno.test("createContainer() behaviour: maps the spec onto the engine's create body", async () => {
  const { docker, seen } = fakeClient(() => json(201, { Id: "abc", Warnings: null }));
  const r = await docker.createContainer("web-1", {
    image: "registry.local:5000/team/app:1.2",
    cmd: ["sh", "-c", "echo $HOME; rm -rf /"], // an argument vector, never a shell string here
    env: { A: "1", B: "two words" },
    ports: [{ containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1" }, {
      containerPort: 53,
      protocol: "udp",
    }],
    volumes: [{ name: "data", target: "/data", readOnly: true }],
    restartPolicy: { name: "on-failure", maximumRetryCount: 3 },
    labels: { team: "a" },
    nanoCpus: 1_500_000_000,
    memoryBytes: 256 * 1024 * 1024,
    privileged: false,
    capAdd: ["NET_ADMIN"],
  });
  assert.deepEqual(r, { id: "abc", warnings: [] });
  const req = seen[0];
  assert.equal(req.method, "POST");
  assert.equal(req.url.pathname, "/v1.41/containers/create");
  assert.equal(req.url.searchParams.get("name"), "web-1");
  const body = req.body as Record<string, unknown> & { HostConfig: Record<string, unknown> };
  assert.equal(body.Image, "registry.local:5000/team/app:1.2");
  assert.deepEqual(body.Cmd, ["sh", "-c", "echo $HOME; rm -rf /"]);
  assert.deepEqual(body.Env, ["A=1", "B=two words"]);
  assert.deepEqual(body.ExposedPorts, { "80/tcp": {}, "53/udp": {} });
  assert.deepEqual(body.HostConfig.PortBindings, {
    "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
  });
  assert.deepEqual(body.HostConfig.Mounts, [
    { Type: "volume", Source: "data", Target: "/data", ReadOnly: true },
  ]);
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
  assert.equal(body.HostConfig.NanoCpus, 1_500_000_000);
  assert.equal(body.HostConfig.Memory, 256 * 1024 * 1024);
  assert.deepEqual(body.HostConfig.CapAdd, ["NET_ADMIN"]);
  docker.close();
});

Deno.test("inspectImage() behaviour: encodes slashes and colons in the path segment", async () => {
  const { docker, seen } = fakeClient(() => json(200, { Id: "sha256:1" }));
  await docker.inspectImage("registry.local:5000/team/app:1.2");
  // pathname keeps the encoding, so the reference is one segment for the engine's router
  assert.equal(seen[0].url.pathname, "/v1.41/images/registry.local%3A5000%2Fteam%2Fapp%3A1.2/json");
  docker.close();
});

Deno.test("DockerError() behaviour: carries the engine's status and message", async () => {
  const { docker } = fakeClient((req) => {
    if (req.url.pathname.startsWith("/v1.41/containers/")) {
      return json(404, { message: "No such container: ghost" });
    }
    if (req.url.pathname.startsWith("/v1.41/images/")) {
      return json(409, {
        message: "conflict: unable to remove repository reference (must force)",
      });
    }
    return new Response("plain failure text", { status: 500 });
  });
  await assertDockerError(docker.inspectContainer("ghost"), 404, /^No such container: ghost$/);
  await assertDockerError(docker.removeImage("app:1"), 409, /^conflict: /);
  await assertDockerError(docker.info(), 500, /^plain failure text$/);
  docker.close();
});

Deno.test("createDockerClient() behaviour: unreachable socket is a 503 naming the socket", async () => {
  const docker = createDockerClient({
    socketPath: "/nonexistent/capstan/docker.sock",
    timeoutMs: 2_000,
  });
  try {
    await assertDockerError(docker.ping(), 503, /unix:\/\/\/nonexistent\/capstan\/docker\.sock/);
  } finally {
    docker.close();
  }
});

Deno.test("createDockerClient() behaviour: a silent engine times out with 504", async () => {
  const { docker } = fakeClient(
    (_req, init) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
      }),
    50,
  );
  const t0 = Date.now();
  await assertDockerError(docker.info(), 504, /within 50 ms/);
  assert.ok(Date.now() - t0 < 2_000);
  docker.close();
});

Deno.test("createDockerClient() behaviour: a caller abort rejects with the caller's reason", async () => {
  const { docker } = fakeClient(
    (_req, init) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
      }),
  );
  const ctl = new AbortController();
  const p = docker.info({ signal: ctl.signal });
  ctl.abort(new Error("user went away"));
  await assert.rejects(p, /user went away/);
  docker.close();
});

Deno.test("pullImage() behaviour: an error object inside the stream becomes a DockerError", async () => {
  let cancelled = false;
  const { docker, seen } = fakeClient(() =>
    new Response(
      openBody([
        JSON.stringify({ status: "Pulling from team/app", id: "1.2" }),
        JSON.stringify({ error: "x", errorDetail: { message: "manifest unknown" } }),
      ], () => cancelled = true),
    )
  );
  const progress: unknown[] = [];
  await assertDockerError(
    docker.pullImage("registry.local:5000/team/app:1.2", (p) => progress.push(p)),
    500,
    /^Cannot pull registry\.local:5000\/team\/app:1\.2: manifest unknown$/,
  );
  assert.equal(progress.length, 1);
  assert.equal(seen[0].url.searchParams.get("fromImage"), "registry.local:5000/team/app");
  assert.equal(seen[0].url.searchParams.get("tag"), "1.2");
  assert.ok(cancelled, "the connection was dropped");
  docker.close();
});

Deno.test("events() behaviour: breaking out of the loop cancels the body", async () => {
  let cancelled = false;
  const { docker } = fakeClient(() =>
    new Response(openBody([JSON.stringify({ Type: "container", Action: "start" })], () => {
      cancelled = true;
    }))
  );
  const stream = await docker.events();
  for await (const ev of stream) {
    assert.equal(ev.Action, "start");
    break;
  }
  assert.ok(cancelled);
  docker.close();
});

Deno.test("events() behaviour: aborting the signal ends iteration quietly and cancels", async () => {
  let cancelled = false;
  const { docker } = fakeClient((_req, init) => {
    const body = openBody([], () => cancelled = true);
    // Like a real fetch, an abort errors the body.
    init.signal?.addEventListener("abort", () => body.cancel().catch(() => {}));
    return new Response(body);
  });
  const ctl = new AbortController();
  const stream = await docker.events({ signal: ctl.signal });
  setTimeout(() => ctl.abort(), 20);
  const got = [];
  for await (const ev of stream) got.push(ev);
  assert.equal(got.length, 0);
  assert.ok(cancelled);
  docker.close();
});

// ---- real engine ------------------------------------------------------------------------------

Deno.test({
  name: "[docker] ping() behaviour: engine answers, version and info are typed",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      assert.equal(await docker.ping(), "OK");
      const v = await docker.version();
      assert.match(v.ApiVersion, /^1\.\d+$/);
      const info = await docker.info();
      assert.ok(info.NCPU >= 1);
      assert.ok(info.MemTotal > 0);
      const images = await docker.listImages();
      assert.ok(images.some((i) => i.RepoTags?.includes(TEST_IMAGE)), `${TEST_IMAGE} is built`);
      const img = await docker.inspectImage(TEST_IMAGE);
      assert.ok(img.RepoTags.includes(TEST_IMAGE));
      await assertDockerError(docker.inspectImage("capstan-test/never-built:nope"), 404);
    }),
});

Deno.test({
  name: "[docker] createContainer() behaviour: full lifecycle with limits, ports and stats",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const name = testName(SUITE, "life");
      const { id } = await docker.createContainer(name, {
        image: TEST_IMAGE,
        // The trap makes PID 1 honour SIGTERM, so stop and restart do not wait out the grace time.
        cmd: ["sh", "-c", "trap 'exit 0' TERM; echo started; while :; do sleep 0.1; done"],
        env: { GREETING: "hello world" },
        labels: { ...LABELS, role: "lifecycle" },
        ports: [{ containerPort: 80, hostPort: 0, hostIp: "127.0.0.1" }],
        restartPolicy: { name: "no" },
        nanoCpus: 500_000_000,
        memoryBytes: 64 * 1024 * 1024,
      });
      assert.match(id, /^[a-f0-9]{64}$/);

      let c = await docker.inspectContainer(id);
      assert.equal(c.Name, `/${name}`);
      assert.equal(c.State.Status, "created");
      assert.equal(c.Config.Labels?.["capstan.test"], "1");
      assert.ok(c.Config.Env?.includes("GREETING=hello world"));
      assert.equal(c.HostConfig.NanoCpus, 500_000_000);
      assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);

      await docker.startContainer(id);
      await docker.startContainer(name); // already running: the engine's 304 is not an error
      c = await docker.inspectContainer(name);
      assert.equal(c.State.Running, true);
      const binding = c.NetworkSettings.Ports?.["80/tcp"]?.[0];
      assert.equal(binding?.HostIp, "127.0.0.1");
      assert.ok(Number(binding?.HostPort) > 0, "a host port was assigned");

      const listed = await docker.listContainers({ filters: { ...RUN_FILTER, name: [name] } });
      assert.deepEqual(listed.map((x) => x.Id), [id]);
      assert.equal(listed[0].State, "running");

      // Stats: one-shot, a one-sample stream, then two streamed samples for a CPU rate.
      const once = await docker.containerStatsOnce(id);
      assert.equal(once.id, id);
      const s1 = summarizeStats(once, null, c.HostConfig);
      assert.ok(s1.pids >= 1);
      assert.equal(s1.memoryLimitBytes, 64 * 1024 * 1024);
      assert.equal(s1.cpuLimitCores, 0.5);
      const single = [];
      for await (const s of await docker.containerStats(id, { stream: false })) single.push(s);
      assert.equal(single.length, 1);
      const samples = [];
      for await (const s of await docker.containerStats(id)) {
        samples.push(s);
        if (samples.length === 2) break;
      }
      const s2 = summarizeStats(samples[1], null, c.HostConfig);
      assert.ok(s2.cpuCores !== null && s2.cpuCores >= 0 && s2.cpuCores < 1);

      const t0 = Date.now();
      await docker.stopContainer(id, { t: 5 });
      assert.ok(Date.now() - t0 < 4_000, "SIGTERM stopped it, not the grace timeout");
      c = await docker.inspectContainer(id);
      assert.equal(c.State.Running, false);
      assert.equal(c.State.ExitCode, 0);
      await docker.stopContainer(id); // already stopped: 304, not an error

      await docker.restartContainer(id, { t: 2 });
      c = await docker.inspectContainer(id);
      assert.equal(c.State.Running, true);

      await docker.killContainer(id, "SIGKILL");
      c = await waitFor("the kill", async () => {
        const x = await docker.inspectContainer(id);
        return !x.State.Running && x;
      });
      assert.equal(c.State.ExitCode, 137);
      await assertDockerError(docker.killContainer(id, "SIGKILL"), 409, /is not running/);

      await docker.removeContainer(id, { v: true });
      await assertDockerError(docker.inspectContainer(id), 404, /No such container/);
      await assertDockerError(docker.removeContainer(id), 404);
    }),
});

Deno.test({
  name: "[docker] containerLogs() behaviour: stdout and stderr demultiplexed in order",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const script = "echo out-1; sleep 0.1; echo err-1 >&2; sleep 0.1; echo out-2; sleep 0.1; " +
        "echo err-2 >&2; sleep 0.1; printf 'no-newline'; sleep 0.1; " +
        "head -c 20000 /dev/zero | tr '\\0' x; echo; echo after-long";
      const { id } = await docker.createContainer(testName(SUITE, "logs"), {
        image: TEST_IMAGE,
        cmd: ["sh", "-c", script],
        labels: LABELS,
      });
      await docker.startContainer(id);
      await waitFor("exit", async () =>
        (await docker.inspectContainer(id)).State.Status === "exited");

      const lines: LogLine[] = [];
      for await (const l of await docker.containerLogs(id, { timestamps: true })) {
        lines.push(l);
      }
      assert.deepEqual(
        lines.map((l) => [l.stream, l.line.length > 100 ? "long" : l.line, l.truncated]),
        [
          ["stdout", "out-1", undefined],
          ["stderr", "err-1", undefined],
          ["stdout", "out-2", undefined],
          ["stderr", "err-2", undefined],
          ["stdout", "long", true],
          ["stdout", "after-long", undefined],
        ],
      );
      // printf without a newline runs into the next output of the same stream; the line is cut
      // at 16 KiB including the engine's timestamp prefix (about 30 bytes).
      const long = lines[4].line;
      assert.ok(long.startsWith("no-newlinexxx"));
      assert.ok(long.length > 16 * 1024 - 40 && long.length < 16 * 1024, `length ${long.length}`);
      const ts = lines.map((l) =>
        Date.parse(l.ts!.replace(/(\.\d{3})\d+/, "$1"))
      );
      assert.ok(ts.every((t, i) => Number.isFinite(t) && (i === 0 || t >= ts[i - 1])));

      const tail = [];
      for await (const l of await docker.containerLogs(id, { tail: 1 })) tail.push(l.line);
      assert.deepEqual(tail, ["after-long"]);
      const errOnly = [];
      for await (const l of await docker.containerLogs(id, { stdout: false })) errOnly.push(l.line);
      assert.deepEqual(errOnly, ["err-1", "err-2"]);
    }),
});

Deno.test({
  name: "[docker] containerLogs() behaviour: a TTY container's raw stream is read as lines",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const { id } = await docker.createContainer(testName(SUITE, "tty"), {
        image: TEST_IMAGE,
        cmd: ["sh", "-c", "echo one; echo two >&2"],
        tty: true,
        labels: LABELS,
      });
      await docker.startContainer(id);
      await waitFor("exit", async () =>
        (await docker.inspectContainer(id)).State.Status === "exited");
      const lines: LogLine[] = [];
      for await (const l of await docker.containerLogs(id)) {
        lines.push(l);
      }
      // A TTY merges both outputs into one stream, with \r\n line ends.
      assert.deepEqual(lines, [{ stream: "stdout", line: "one" }, {
        stream: "stdout",
        line: "two",
      }]);
    }),
});

Deno.test({
  name: "[docker] containerLogs() behaviour: follow receives lines printed after it started",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const { id } = await docker.createContainer(testName(SUITE, "follow"), {
        image: TEST_IMAGE,
        cmd: [
          "sh",
          "-c",
          "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done",
        ],
        labels: LABELS,
      });
      await docker.startContainer(id);
      // tail=0 leaves out everything printed before the stream opened.
      const started = Date.now();
      const stream = await docker.containerLogs(id, { follow: true, tail: 0, timestamps: true });
      const got: LogLine[] = [];
      await withDeadline(5_000, async (deadline) => {
        deadline.addEventListener("abort", () => void stream.close());
        for await (const l of stream) {
          got.push(l);
          if (got.length === 2) break;
        }
      });
      assert.equal(got.length, 2, "two new lines arrived while following");
      assert.match(got[0].line, /^tick-\d+$/);
      assert.ok(Date.parse(got[0].ts!.replace(/(\.\d{3})\d+/, "$1")) >= started - 1_000);

      // A caller abort ends a follow quietly.
      const ctl = new AbortController();
      const follow = await docker.containerLogs(id, { follow: true, tail: 1, signal: ctl.signal });
      let n = 0;
      for await (const _ of follow) {
        if (++n === 2) ctl.abort();
      }
      assert.equal(n, 2);
      await docker.stopContainer(id, { t: 2 });
    }),
});

Deno.test({
  name: "[docker] removeImage() behaviour: refused with 409 while a container uses it",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      // A private image (committed from a container) so a wrong outcome cannot hurt the shared one.
      const base = await docker.createContainer(testName(SUITE, "base"), {
        image: TEST_IMAGE,
        cmd: ["true"],
        labels: LABELS,
      });
      const repo = `capstan-test/inuse-${crypto.randomUUID().slice(0, 8)}`;
      await commit(docker.socketPath, base.id, repo, "v1");
      await commit(docker.socketPath, base.id, "", ""); // a dangling image for the prune below
      const ref = `${repo}:v1`;
      const user = await docker.createContainer(testName(SUITE, "user"), {
        image: ref,
        cmd: ["true"],
        labels: LABELS,
      });
      await assertDockerError(docker.removeImage(ref), 409, /conflict|being used|is using/);
      await docker.removeContainer(user.id);
      const removed = await docker.removeImage(ref);
      assert.ok(removed.some((r) => r.Untagged === ref));
      assert.ok(removed.some((r) => r.Deleted?.startsWith("sha256:")));
      await assertDockerError(docker.inspectImage(ref), 404);

      const pruned = await docker.pruneImages({ dangling: true, filters: RUN_FILTER });
      assert.ok((pruned.ImagesDeleted ?? []).length >= 1, "the dangling test image was pruned");
    }),
});

Deno.test({
  name: "[docker] createNetwork() behaviour: create with subnet, duplicate 409, remove",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const name = testName(SUITE, "net");
      const octet = 1 + Math.floor(Math.random() * 250);
      const subnet = `10.213.${octet}.0/24`;
      const { id } = await docker.createNetwork({
        name,
        driver: "bridge",
        subnet,
        gateway: `10.213.${octet}.1`,
        labels: LABELS,
        options: { "com.docker.network.bridge.enable_icc": "true" },
      });
      const n = await docker.inspectNetwork(name);
      assert.equal(n.Id, id);
      assert.equal(n.Driver, "bridge");
      assert.deepEqual(n.IPAM.Config?.[0], { Subnet: subnet, Gateway: `10.213.${octet}.1` });
      assert.equal(n.Labels?.["capstan.test"], "1");
      const listed = await docker.listNetworks({ filters: RUN_FILTER });
      assert.ok(listed.some((x) => x.Id === id));
      await assertDockerError(
        docker.createNetwork({ name, labels: LABELS }),
        409,
        /already exists/,
      );
      await docker.removeNetwork(id);
      await assertDockerError(docker.inspectNetwork(id), 404);
    }),
});

Deno.test({
  name: "[docker] removeVolume() behaviour: 409 while in use, then removed",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const name = testName(SUITE, "vol");
      const v = await docker.createVolume({ name, labels: LABELS });
      assert.equal(v.Name, name);
      assert.equal(v.Driver, "local");
      assert.ok((await docker.listVolumes({ filters: RUN_FILTER })).some((x) => x.Name === name));
      const { id } = await docker.createContainer(testName(SUITE, "voluser"), {
        image: TEST_IMAGE,
        cmd: ["sh", "-c", "head -c 4096 /dev/zero > /data/blob"],
        volumes: [{ name, target: "/data" }],
        labels: LABELS,
      });
      await docker.startContainer(id);
      await waitFor("exit", async () =>
        (await docker.inspectContainer(id)).State.Status === "exited");
      const df = await docker.systemDf();
      const usage = df.Volumes.find((x) =>
        x.Name === name
      )?.UsageData;
      assert.ok(usage, "df lists the volume");
      assert.equal(usage.RefCount, 1);
      assert.ok(usage.Size >= 4096, `size ${usage.Size}`);
      await assertDockerError(docker.removeVolume(name), 409, /in use/);
      await docker.removeContainer(id);
      await docker.removeVolume(name);
      await assertDockerError(docker.inspectVolume(name), 404);
    }),
});

Deno.test({
  name: "[docker] events() behaviour: sees a container start; closing drops the listener",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const { id } = await docker.createContainer(testName(SUITE, "events"), {
        image: TEST_IMAGE,
        cmd: ["true"],
        labels: LABELS,
      });
      const stream = await docker.events({
        filters: { type: ["container"], ...RUN_FILTER, container: [id] },
      });
      assert.ok(((await docker.info()).NEventsListener ?? 0) >= 1);
      await docker.startContainer(id);
      // Measured right before closing, so other processes' listeners hardly have time to move it.
      let listening = 0;
      const seen = await withDeadline(10_000, async (deadline) => {
        deadline.addEventListener("abort", () => void stream.close());
        for await (const ev of stream) {
          if (ev.Action === "start") {
            listening = (await docker.info()).NEventsListener ?? 0;
            return ev; // leaving the loop closes the stream
          }
        }
      });
      assert.ok(seen, "a start event arrived");
      assert.equal(seen.Actor.ID, id);
      assert.equal(seen.Actor.Attributes["capstan.test"], "1");
      assert.ok(seen.timeNano > 0);
      // The engine notices the dropped connection and unsubscribes.
      await waitFor("the listener to go", async () =>
        ((await docker.info()).NEventsListener ?? 0) < listening, 5_000);
    }),
});

Deno.test({
  name: "[docker] pullImage() behaviour: an unreachable registry fails fast with a clear error",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      // Port 9 on loopback is closed: the engine gets "connection refused" at once.
      const ref = "127.0.0.1:9/capstan-test/absent:latest";
      const t0 = Date.now();
      await withDeadline(20_000, (signal) =>
        assertDockerError(
          docker.pullImage(ref, undefined, { signal }),
          500,
          /^Cannot pull 127\.0\.0\.1:9\/capstan-test\/absent:latest: .*(refused|no such host|connect)/,
        ));
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    }),
});

/** Commits a container to a new image labelled for this suite (the client has no commit). */
async function commit(
  socketPath: string,
  container: string,
  repo: string,
  tag: string,
): Promise<void> {
  const http = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    const qs = new URLSearchParams({ container, repo, tag });
    for (const [k, v] of Object.entries(LABELS)) qs.append("changes", `LABEL ${k}=${v}`);
    const res = await fetch(`http://docker/v1.41/commit?${qs}`, { method: "POST", client: http });
    const text = await res.text();
    assert.equal(res.status, 201, text);
  } finally {
    http.close();
  }
}
