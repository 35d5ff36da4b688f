import assert from "node:assert/strict";
import { createStreamHub, type StreamMessage, type StreamSource } from "./stream_hub.ts";
import type { AgentStream } from "./connection.ts";
import { HttpError } from "../http/errors.ts";
import type { DockerStats } from "../docker/stats.ts";

/** An agent stream the test drives by hand. */
function fakeStream() {
  const buffer: unknown[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const s = {
    cancelled: false,
    push(v: unknown) {
      buffer.push(v);
      wake?.();
    },
    end(e?: Error) {
      done = true;
      failure = e;
      wake?.();
    },
    stream: {
      cancel() {
        s.cancelled = true;
        done = true;
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (buffer.length) yield buffer.shift();
          if (done) break;
          await new Promise<void>((r) => (wake = r));
        }
        if (failure) throw failure;
      },
    } as AgentStream,
  };
  return s;
}

function fakeSource(inspect: unknown = { HostConfig: { NanoCpus: 500_000_000 } }) {
  const streams: { op: string; params: unknown; s: ReturnType<typeof fakeStream> }[] = [];
  const calls: string[] = [];
  const src: StreamSource = {
    stream(op, params) {
      const s = fakeStream();
      streams.push({ op, params, s });
      return s.stream;
    },
    call<T>(op: string) {
      calls.push(op);
      return Promise.resolve(inspect as T);
    },
  };
  return { src, streams, calls };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const line = (text: string, stream: "stdout" | "stderr" = "stdout") => ({
  stream,
  line: text,
  ts: "2026-01-01T00:00:00.000000000Z",
});

Deno.test("createStreamHub() shares one upstream among viewers and cancels it after the last leaves", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0 });
  const a = hub.subscribe("h1", "logs", "c1");
  const b = hub.subscribe("h1", "logs", "c1");
  const other = hub.subscribe("h1", "logs", "c2");
  await tick();
  assert.equal(f.streams.length, 2);
  assert.deepEqual(f.streams[0].params, { id: "c1", tail: 0, follow: true, timestamps: true });
  assert.deepEqual(hub.counts(), { upstreams: 2, viewers: 3, started: 2 });

  f.streams[0].s.push([line("hello"), line("oops", "stderr")]);
  const got: StreamMessage[] = [await a.next() as StreamMessage, await b.next() as StreamMessage];
  for (const m of got) {
    assert.deepEqual(m, { type: "lines", lines: [line("hello"), line("oops", "stderr")] });
  }

  a.close();
  assert.equal(f.streams[0].s.cancelled, false, "one viewer left, the upstream stays");
  b.close();
  assert.equal(f.streams[0].s.cancelled, true, "last viewer left: upstream cancelled");
  assert.equal(a.endReason?.code, "closed");
  assert.deepEqual(hub.counts(), { upstreams: 1, viewers: 1, started: 2 });
  other.close();
  assert.deepEqual(hub.counts(), { upstreams: 0, viewers: 0, started: 2 });
});

Deno.test("createStreamHub() lingers after the last viewer so a reload reuses the upstream", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 40 });
  hub.subscribe("h1", "logs", "c1").close();
  await tick();
  assert.equal(f.streams[0].s.cancelled, false);
  const again = hub.subscribe("h1", "logs", "c1");
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(f.streams.length, 1, "the reload joined the lingering upstream");
  assert.equal(f.streams[0].s.cancelled, false);
  again.close();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(f.streams[0].s.cancelled, true);
  assert.equal(hub.counts().upstreams, 0);
});

Deno.test("createStreamHub() drops a viewer that falls behind, not the stream", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0, maxQueueMessages: 3 });
  const slow = hub.subscribe("h1", "logs", "c1");
  const fast = hub.subscribe("h1", "logs", "c1");
  await tick();
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    f.streams[0].s.push([line(`l${i}`)]);
    await tick();
    const m = await fast.next();
    if (m?.type === "lines") seen.push(m.lines[0].line);
  }
  assert.equal(seen.length, 10);
  assert.equal(slow.endReason?.code, "slow_consumer");
  assert.equal(await slow.next(), undefined, "a dropped viewer's backlog is discarded");
  assert.equal(f.streams[0].s.cancelled, false);
  assert.deepEqual(hub.counts(), { upstreams: 1, viewers: 1, started: 1 });
  fast.close();
});

Deno.test("createStreamHub() bounds a viewer's queue in bytes too", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0, maxQueueBytes: 10_000 });
  const v = hub.subscribe("h1", "logs", "c1");
  await tick();
  f.streams[0].s.push([line("x".repeat(6000))]);
  f.streams[0].s.push([line("y".repeat(6000))]);
  await tick();
  assert.equal(v.endReason?.code, "slow_consumer");
});

Deno.test("createStreamHub() ends every viewer with the upstream's reason", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0 });
  const a = hub.subscribe("h1", "logs", "c1");
  const b = hub.subscribe("h1", "logs", "c1");
  await tick();
  f.streams[0].s.push([line("last words")]);
  f.streams[0].s.push({ dropped: 7 });
  f.streams[0].s.end(new HttpError(503, "host_offline", "The host's agent disconnected"));
  const msgs: (StreamMessage | undefined)[] = [];
  for (let m = await a.next(); m; m = await a.next()) msgs.push(m);
  assert.deepEqual(msgs.map((m) => m?.type), ["lines", "dropped"]);
  assert.deepEqual(msgs[1], { type: "dropped", count: 7 });
  assert.equal(a.endReason?.code, "host_offline");
  assert.equal(b.endReason?.code, "host_offline");
  assert.equal(hub.counts().upstreams, 0);

  // A normal end (the container stopped) says so; a new viewer starts a fresh upstream.
  const c = hub.subscribe("h1", "logs", "c1");
  await tick();
  f.streams[1].s.end();
  assert.equal(await c.next(), undefined);
  assert.equal(c.endReason?.code, "ended");
  assert.equal(hub.counts().started, 2);
});

Deno.test("createStreamHub() refuses at once when the host is offline", () => {
  const hub = createStreamHub({
    connect: () => {
      throw new HttpError(503, "host_offline", "The host's agent is not connected");
    },
  });
  assert.throws(() => hub.subscribe("h1", "logs", "c1"), (e: HttpError) => e.status === 503);
  assert.equal(hub.counts().upstreams, 0);
});

function sample(t: number, cpu: number, sys: number, rx: number): DockerStats {
  return {
    read: new Date(t).toISOString(),
    cpu_stats: { cpu_usage: { total_usage: cpu }, system_cpu_usage: sys, online_cpus: 2 },
    memory_stats: { usage: 100, limit: 1000, stats: { inactive_file: 20 } },
    networks: { eth0: { rx_bytes: rx, tx_bytes: 0 } },
    pids_stats: { current: 3 },
  };
}

Deno.test("createStreamHub() summarises each stats sample once, with the CPU limit from inspect", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0 });
  const a = hub.subscribe("h1", "stats", "c1");
  await tick();
  await tick();
  assert.deepEqual(f.calls, ["container.inspect"]);
  assert.equal(f.streams[0].op, "container.stats_stream");
  f.streams[0].s.push(sample(1_000, 0, 0, 0));
  f.streams[0].s.push({ ...sample(0, 0, 0, 0), read: "0001-01-01T00:00:00Z" });
  // 0.5 s of one core over 1 s on a 2-CPU host: 25 % of the host, half a core, 100 % of 0.5 cores.
  f.streams[0].s.push(sample(2_000, 500_000_000, 2_000_000_000, 4096));
  const first = await a.next();
  const second = await a.next();
  assert.equal(first?.type, "stats");
  assert.equal(second?.type, "stats");
  if (second?.type !== "stats") return;
  assert.equal(second.summary.cpuPercentOfHost, 25);
  assert.equal(second.summary.cpuCores, 0.5);
  assert.equal(second.summary.cpuPercentOfLimit, 100);
  assert.equal(second.summary.memoryUsedBytes, 80);
  assert.equal(second.summary.networkRxBytesPerSec, 4096);

  // A late joiner sees the latest figures at once rather than after the next sample.
  const late = hub.subscribe("h1", "stats", "c1");
  const m = await late.next();
  assert.equal(m?.type === "stats" && m.summary.cpuCores, 0.5);
  assert.equal(f.calls.length, 1);
  a.close();
  late.close();
  assert.equal(f.streams[0].s.cancelled, true);
});

Deno.test("createStreamHub() caps viewers per stream and ends all on close()", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, maxViewersPerStream: 2 });
  const a = hub.subscribe("h1", "logs", "c1");
  hub.subscribe("h1", "logs", "c1");
  assert.throws(() => hub.subscribe("h1", "logs", "c1"), (e: HttpError) => e.status === 429);
  await tick();
  hub.close();
  assert.equal(a.endReason?.code, "shutdown");
  assert.equal(f.streams[0].s.cancelled, true);
  assert.equal(hub.counts().upstreams, 0);
});

Deno.test("createStreamHub() says when an upstream flows, or gives up waiting", async () => {
  const f = fakeSource();
  const hub = createStreamHub({ connect: () => f.src, lingerMs: 0 });
  const a = hub.subscribe("h1", "logs", "c1");
  const t0 = Date.now();
  await a.flowing(30);
  assert.ok(Date.now() - t0 >= 25, "nothing flowed: waited for the timeout");
  const waiting = a.flowing(5000);
  f.streams[0].s.push([line("first")]);
  await waiting;
  const b = hub.subscribe("h1", "logs", "c1");
  await b.flowing(5000); // already flowing: at once
  a.close();
  b.close();
});
