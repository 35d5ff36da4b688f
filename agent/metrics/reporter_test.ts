import assert from "node:assert/strict";
import type { MetricsSample } from "../../lib/protocol/metrics.ts";
import { createBackoff } from "../backoff.ts";
import { type Receiver, startReceiver } from "./receiver.ts";
import { chunkSamples, createReporter, type Reporter, type ReporterOptions } from "./reporter.ts";
import { openSpool, openSpoolRetrying, type Spool } from "./spool.ts";
import type { Logger } from "../../lib/log.ts";

const TOKEN = "caph_test-token";

async function until(cond: () => boolean, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A reporter against `receiver` with fast batching and retries; samples t = 1, 2, 3, … */
async function setup(
  receiver: Receiver,
  dir: string,
  over: Partial<ReporterOptions> = {},
  spoolOf: (dir: string) => Promise<Spool> = openSpool,
): Promise<{ reporter: Reporter; feed: (n: number) => void }> {
  const spool = await spoolOf(dir);
  const reporter = createReporter({
    hubUrl: `${receiver.url}/`,
    token: TOKEN,
    spool,
    reportIntervalMs: 40,
    backoff: createBackoff({ baseMs: 10, capMs: 80 }),
    ...over,
  });
  let t = 0;
  const feed = (n: number) => {
    for (let i = 0; i < n; i++) reporter.add({ t: ++t, host: { "cpu.total_pct": t % 100 } });
  };
  reporter.start();
  return { reporter, feed };
}

/** The samples the receiver committed, in order, checking seqs are 0.. without duplicates. */
function committedSamples(receiver: Receiver): number[] {
  const firsts = receiver.received.filter((r) => !r.duplicate);
  assert.deepEqual(
    firsts.map((r) => r.batch.seq),
    firsts.map((_, i) => i),
    "seqs in order, no gap",
  );
  return firsts.flatMap((r) => r.batch.samples.map((s) => s.t));
}

const receivedSamples = (r: Receiver) => r.received.reduce((n, b) => n + b.batch.samples.length, 0);

async function withSetup(
  fn: (receiver: Receiver, dir: string) => Promise<void>,
  respond?: Parameters<typeof startReceiver>[0]["respond"],
  ack?: Parameters<typeof startReceiver>[0]["ack"],
) {
  const receiver = startReceiver({ token: TOKEN, respond, ack });
  const dir = await Deno.makeTempDir();
  try {
    await fn(receiver, dir);
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

Deno.test("createReporter() POSTs gzip batches in order with the host token", () =>
  withSetup(async (receiver, dir) => {
    const { reporter, feed } = await setup(receiver, dir);
    for (let i = 0; i < 5; i++) {
      feed(10);
      await new Promise((r) => setTimeout(r, 60));
    }
    // Delivered and acknowledged (the receiver records a batch before its answer reaches us).
    await until(
      () => receivedSamples(receiver) >= 50 && reporter.stats().spool.batches === 0,
      "delivery",
    );
    await reporter.stop();
    assert.deepEqual(committedSamples(receiver), range(50));
    const h = receiver.received[0].headers;
    assert.equal(h.get("content-encoding"), "gzip");
    assert.equal(h.get("content-type"), "application/json");
    assert.equal(reporter.stats().batchesSent, receiver.received.length);
    assert.equal(reporter.stats().state, "stopped");
  }));

Deno.test("createReporter() spools while the hub refuses connections and catches up in order", () =>
  withSetup(async (receiver, dir) => {
    const { reporter, feed } = await setup(receiver, dir);
    feed(5);
    await until(() => receiver.received.length === 1, "first batch");
    await receiver.down();
    for (let i = 0; i < 8; i++) {
      feed(5);
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => reporter.stats().spool.batches >= 5, "batches spooling while down");
    const s = reporter.stats();
    assert.equal(s.state, "retrying");
    assert.ok(s.sendFailures >= 1);
    assert.match(
      s.lastError ?? "",
      /POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/agent\/report failed/,
    );
    receiver.up();
    await until(() => receivedSamples(receiver) >= 45, "catch-up");
    await reporter.stop();
    assert.deepEqual(committedSamples(receiver), range(45), "no sample lost, none twice, in order");
  }));

Deno.test("createReporter() retries 5xx with backoff", () => {
  return withSetup(async (receiver, dir) => {
    const { reporter, feed } = await setup(receiver, dir);
    feed(3);
    await until(() => receiver.received.length === 1, "delivery after 503s");
    await reporter.stop();
    assert.deepEqual(receiver.statuses, [503, 503, 503, 200]);
    assert.equal(reporter.stats().sendFailures, 3);
    assert.deepEqual(committedSamples(receiver), [1, 2, 3]);
  }, (_batch, attempt) => (attempt < 3 ? 503 : undefined));
});

Deno.test("createReporter() drops a batch the hub refuses with 400, counts it, and goes on", () => {
  return withSetup(async (receiver, dir) => {
    const { reporter, feed } = await setup(receiver, dir);
    for (let i = 0; i < 4; i++) {
      feed(2);
      await until(() => reporter.stats().batchesSpooled === i + 1, `batch ${i}`);
    }
    await until(() => reporter.stats().spool.batches === 0, "queue drained");
    await reporter.stop();
    assert.deepEqual(receiver.received.map((r) => r.batch.seq), [0, 2, 3]);
    assert.equal(reporter.stats().batchesPoisoned, 1);
    assert.equal(reporter.stats().spool.dropped, 1);
    assert.match(reporter.stats().lastError ?? "", /refused batch 1 \(HTTP 400\)/);
    // Batches made after the drop carry the count to the hub.
    assert.equal(receiver.received.at(-1)!.batch.dropped, 1);
  }, (batch) => (batch.seq === 1 ? 400 : undefined));
});

Deno.test("createReporter() stops sending with a clear error when the token is refused", () =>
  withSetup(async (receiver, dir) => {
    const calls: number[] = [];
    const { reporter, feed } = await setup(receiver, dir, {
      token: "caph_revoked",
      onUnauthorized: (status) => calls.push(status),
    });
    feed(3);
    await until(() => reporter.stats().state === "unauthorized", "unauthorized");
    feed(3);
    await new Promise((r) => setTimeout(r, 150));
    await reporter.stop();
    assert.deepEqual(calls, [401]);
    assert.deepEqual(receiver.statuses, [401], "no retry storm with a revoked token");
    assert.match(reporter.stats().lastError ?? "", /refused the host token \(HTTP 401\)/);
    assert.ok(reporter.stats().spool.batches >= 2, "kept spooled");
  }));

Deno.test("createReporter() spools the buffer on stop, and a restarted agent sends it", () =>
  withSetup(async (receiver, dir) => {
    await receiver.down();
    const first = await setup(receiver, dir, { reportIntervalMs: 60_000 });
    first.feed(7);
    await first.reporter.stop();
    assert.equal(first.reporter.stats().spool.batches, 1);
    receiver.up();
    const second = await setup(receiver, dir);
    await until(() => receiver.received.length === 1, "delivery after restart");
    await second.reporter.stop();
    assert.deepEqual(committedSamples(receiver), range(7));
  }));

Deno.test("chunkSamples() keeps batches within the protocol's 3600 samples", () => {
  const samples: MetricsSample[] = Array.from({ length: 8000 }, (_, i) => ({ t: i, host: {} }));
  assert.deepEqual(chunkSamples(samples).map((c) => c.count), [3600, 3600, 800]);
});

/** A logger that keeps its lines. */
function keptLog() {
  const lines: string[] = [];
  const keep = (level: string) => (msg: string, f?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${f ? JSON.stringify(f) : ""}`);
  const log: Logger = {
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
  return { log, lines };
}

Deno.test("createReporter() sends from memory when the spool cannot be written, counting what falls off its bound", () =>
  withSetup(async (receiver, dir) => {
    // Fault: the state dir is unusable (its parent is a file), as a read-only or full one is.
    await Deno.writeTextFile(`${dir}/blocked`, "");
    const { log, lines } = keptLog();
    const { reporter, feed } = await setup(
      receiver,
      dir,
      { log },
      (d) => Promise.resolve(openSpoolRetrying(`${d}/blocked/spool`, { retryMs: 60_000 })),
    );
    feed(30);
    await until(() => receivedSamples(receiver) === 30, "delivery from memory");
    const first = receiver.received[0];
    assert.equal(first.batch.memory, true);
    assert.match(first.batch.epoch ?? "", /^[A-Za-z0-9_-]{22}$/);
    assert.match(
      decodeURIComponent(first.headers.get("x-capstan-metrics-problem") ?? ""),
      /^the agent cannot write its metrics spool \(.*cannot be opened.*\); it sends from memory/,
    );
    assert.ok(
      lines.some((l) => /error metrics: cannot write to the spool; sending from memory/.test(l)),
    );

    // The hub goes away too: memory keeps at most an hour of samples and counts the rest as lost.
    await receiver.down();
    feed(4000);
    await until(
      () => reporter.stats().memoryBatches > 0 && reporter.stats().buffered === 0,
      "memory",
    );
    await until(() => reporter.stats().samplesLost === 400, "the oldest 400 counted as lost");
    receiver.up();
    await until(() => receivedSamples(receiver) === 30 + 3600, "the rest delivered");
    const lostHeader = receiver.received.at(-1)!.headers.get("x-capstan-samples-lost");
    assert.equal(lostHeader, "400", "the hub is told what was lost");
    await reporter.stop();
    const ts = receiver.received.flatMap((r) => r.batch.samples.map((s) => s.t));
    assert.deepEqual(ts, [...range(30), ...range(4030).slice(430)], "in order, newest kept");
    assert.equal(reporter.stats().spool.batches, 0);
  }));

Deno.test("createReporter() sends its machine id and clock, and logs the skew and refused samples the hub reports", () =>
  withSetup(
    async (receiver, dir) => {
      const { log, lines } = keptLog();
      const { reporter, feed } = await setup(receiver, dir, { log, machineId: "machine-x" });
      feed(5);
      await until(() => reporter.stats().batchesSent === 1, "delivery");
      await reporter.stop();
      const h = receiver.received[0].headers;
      assert.equal(h.get("x-capstan-machine-id"), "machine-x");
      assert.ok(Math.abs(Number(h.get("x-capstan-agent-time")) - Date.now()) < 10_000);
      assert.equal(h.get("x-capstan-metrics-problem"), null, "nothing wrong, nothing said");
      assert.equal(reporter.stats().skewMs, 90_000);
      assert.equal(reporter.stats().samplesRefused, 3);
      assert.ok(
        lines.some((l) => /warn metrics: this host's clock is 90 s ahead of the hub's/.test(l)),
      );
      assert.ok(lines.some((l) => /warn metrics: the hub refused samples .*"future":3/.test(l)));
    },
    undefined,
    () => ({ refused: { future: 3, old: 0 }, skew_ms: 90_000 }),
  ));
