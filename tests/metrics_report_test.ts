/**
 * The agent report endpoint's integrity: a host token only files reports from the machine it is
 * bound to, samples dated far ahead are refused and counted on every ingest path, and a batch the
 * database cannot store is answered 503 (retryable) with the real error logged.
 */
import { createEventBus } from "../lib/events.ts";
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { createServices } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { createRealtimePublisher } from "../lib/realtime/publisher.ts";
import { createRealtimeHub } from "../lib/realtime/hub.ts";
import { topicAccess } from "../lib/realtime/access.ts";
import { createHubApp as createApp } from "../app.ts";
import { silentLogger } from "../lib/log.ts";
import { createMetrics } from "../lib/metrics/service.ts";
import { systemClock } from "../lib/util/clock.ts";
import { inProcessReportFetch } from "../lib/agents/in_process_report.ts";
import { gzip } from "../agent/metrics/reporter.ts";
import { dbTest } from "./support/db.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { installMetricsFault } from "./support/faults.ts";
import { keptLog } from "./support/log.ts";
import { countRawSamples } from "../lib/metrics/chunks.ts";

const MACHINE = "machine-report-0001";
const YEAR_3000 = Date.UTC(3000, 0, 1);

/** The app with a logger that keeps what it is told, and one enrolled host. */
async function reportFixture(h: DbHandle) {
  const { log, lines } = keptLog();
  const config = loadConfig({
    CAPSTAN_DATA_DIR: "/tmp/capstan-test-unused",
    CAPSTAN_PUBLIC_URL: "http://hub.test",
  });
  const services = createServices({ config, dbh: h, log, bus: createMemoryBus() });
  const app = createApp(
    services,
    createRealtimeHub({ bus: services.bus, canRead: topicAccess(services.orgs) }),
  );
  const org = await services.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
  const { host, enrollment } = await services.hosts.create(SYSTEM_CTX, org.id, { name: "box" });
  const { token } = await services.hosts.enroll(SYSTEM_CTX, {
    token: enrollment.token,
    machineId: MACHINE,
    hostname: "box",
  });
  const send = async (body: unknown, headers: Record<string, string> = {}) =>
    await app.request("http://hub.test/api/v1/agent/report", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-encoding": "gzip", ...headers },
      body: await gzip(JSON.stringify(body)),
    });
  const stored = async () =>
    Number(
      await countRawSamples(h.db),
    );
  return { services, app, host, token, send, stored, lines };
}

dbTest(
  "[e2e] agent report: a host token from another machine is refused and audited; samples > 5 min ahead are refused on every path",
  async (h) => {
    const f = await reportFixture(h);
    const now = Date.now();
    const batch = (seq: number) => ({
      seq,
      samples: [
        { t: YEAR_3000, host: { "cpu.total_pct": 66 } },
        { t: now - 5000 + seq * 1000, host: { "cpu.total_pct": 5 } },
      ],
    });

    // The token copied to another machine, and a sender that does not name its machine.
    const foreign = await f.send(batch(0), { "x-capstan-machine-id": "machine-elsewhere" });
    assert.equal(foreign.status, 403);
    assert.equal((await foreign.json()).error.code, "token_refused");
    const unnamed = await f.send(batch(0));
    assert.equal(unnamed.status, 403);
    assert.match((await unnamed.json()).error.message, /x-capstan-machine-id/);
    assert.equal(await f.stored(), 0, "nothing filed under the host");
    const audit = (await f.services.audit.list({ action: "host.token_refused", limit: 10 })).rows;
    assert.equal(audit.length, 2);
    const row = audit.find((a) => a.metadata.presented_machine_id === "machine-elsewhere");
    assert.equal(row?.target_id, f.host.id);
    assert.equal(row?.metadata.via, "report");
    assert.match(
      f.services.metrics.lastFailure(f.host.id)?.reason ?? "",
      /did not name its machine/,
    );

    // From its own machine: stored, but the year-3000 sample is refused and the ack says so.
    const live: number[] = [];
    const unsubscribe = f.services.bus.subscribe((topic, data) => {
      if (topic === `org:${f.host.org_id}:metrics.${f.host.id}`) {
        for (const s of (data as { samples: { t: number }[] }).samples) live.push(s.t);
      }
    });
    const own = await f.send(batch(0), {
      "x-capstan-machine-id": MACHINE,
      "x-capstan-agent-time": String(Date.now() + 3000),
    });
    assert.equal(own.status, 200);
    const ack = await own.json();
    assert.deepEqual(ack.refused, { future: 1, old: 0 });
    assert.ok(Math.abs(ack.skew_ms - 3000) < 2000, `skew measured (${ack.skew_ms} ms)`);
    assert.equal(await f.stored(), 1);
    assert.equal(f.services.metrics.lastFailure(f.host.id), undefined, "recovered");

    // The embedded agent's in-process path refuses the same way.
    const fetchIn = inProcessReportFetch(() => f.host, f.services.metrics);
    const inProc = await fetchIn("http://embedded.invalid/api/v1/agent/report", {
      method: "POST",
      headers: { "content-encoding": "gzip" },
      body: await gzip(JSON.stringify(batch(1))),
    });
    assert.deepEqual((await inProc.json()).refused, { future: 1, old: 0 });
    assert.equal(await f.stored(), 2);
    unsubscribe();
    assert.ok(!live.includes(YEAR_3000), "live topics never see a refused sample");
    const latest = await h.db.selectFrom("metric_latest").select("t").execute();
    assert.ok(latest.every((l) => Number(l.t) < YEAR_3000));
  },
);

dbTest(
  "[e2e] agent report: a batch the database cannot store is answered 503 with Retry-After, the error logged, and stored when sent again",
  async (h) => {
    const f = await reportFixture(h);
    const fault = await installMetricsFault(h);
    const body = { seq: 0, samples: [{ t: Date.now() - 1000, host: { "cpu.total_pct": 5 } }] };
    const headers = { "x-capstan-machine-id": MACHINE };
    await fault.on();
    const full = await f.send(body, headers);
    assert.equal(full.status, 503, "retryable");
    assert.equal(full.headers.get("retry-after"), "5");
    const err = await full.json();
    assert.equal(err.error.code, "storage_unavailable");
    assert.match(err.error.message, /database or disk is full|No space left on device/);
    assert.ok(
      f.lines.some((l) =>
        /^error metrics: a batch could not be stored .*(database or disk is full|No space left on device)/
          .test(l)
      ),
      f.lines.join("\n"),
    );
    assert.match(f.services.metrics.lastFailure(f.host.id)!.reason, /could not store its report/);
    await fault.off();
    const again = await f.send(body, headers);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).duplicate, false, "the failed batch was never committed");
    assert.equal(await f.stored(), 1);
  },
);

dbTest("metrics.ingest(): alert rules see only the samples that were stored", async (h) => {
  const seen: number[] = [];
  const events = createEventBus(silentLogger);
  events.on("metrics.batch_committed", ({ batch }) => seen.push(...batch.samples.map((s) => s.t)));
  const metrics = createMetrics({
    dbh: h,
    clock: systemClock,
    realtime: createRealtimePublisher(createMemoryBus(), silentLogger),
    log: silentLogger,
    retention: { rawHours: 24, minuteDays: 30, hourDays: 365 },
    events,
  });
  const now = Date.now();
  const r = await metrics.ingest({ id: "h", org_id: "o" }, {
    seq: 0,
    dropped: 0,
    samples: [
      { t: YEAR_3000, host: { "cpu.total_pct": 99 } },
      { t: now - 48 * 3600_000, host: { "cpu.total_pct": 99 } },
      { t: now - 1000, host: { "cpu.total_pct": 5 } },
    ],
  });
  assert.deepEqual(r.refused, { future: 1, old: 1 });
  assert.deepEqual(seen, [now - 1000]);
});
