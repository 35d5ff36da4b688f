/**
 * The metrics status lines of a host's page, through the whole app: an online host whose reports do
 * not arrive says "Metrics not reporting: <reason>" (none yet; the hub's full disk), a clock that is
 * off says by how much, a spool that was reset is mentioned, and an agent that cannot write its
 * spool says so while it reports from memory.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { installMetricsFault } from "./support/faults.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import type { Hello } from "../lib/protocol/messages.ts";
import { gzip } from "../agent/metrics/reporter.ts";

const MACHINE = "machine-status-0001";

/** Text of the page without tags, so phrases split by markup still match. */
const text = (html: string) => html.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");

/**
 * An enrolled host whose agent is connected, in a test app: its page's text as a viewer sees it,
 * and reports of samples (one per call, `samples` as given or one cpu sample a second ago).
 */
async function connectedHost(
  h: DbHandle,
  clock: ReturnType<typeof manualClock>,
  env: Record<string, string> = {},
) {
  const t = testApp(h, clock, undefined, env);
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const { host, enrollment } = await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "box" });
  const { token } = await t.services.hosts.enroll(SYSTEM_CTX, {
    token: enrollment.token,
    machineId: MACHINE,
    hostname: "box",
  });
  const [hubEnd, agentEnd] = memoryTransportPair();
  const attached = t.services.agents.attach(host, hubEnd);
  agentEnd.send(JSON.stringify(
    {
      t: "hello",
      protocol: 1,
      agent_version: "0.1.0",
      machine_id: MACHINE,
      hostname: "box",
      engine: null,
    } satisfies Partial<Hello>,
  ));
  await attached;
  const page = async () =>
    text(await (await t.request(`/o/acme/hosts/${host.id}`, { cookie: viewer.cookie })).text());
  let seq = 0;
  const report = async (
    headers: Record<string, string> = {},
    epoch = "spool-epoch-1",
    samples: unknown[] = [{ t: clock.now() - 1000, host: { "cpu.total_pct": 5 } }],
  ) =>
    await t.app.request("http://hub.test/api/v1/agent/report", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "x-capstan-machine-id": MACHINE,
        "content-encoding": "gzip",
        ...headers,
      },
      body: await gzip(JSON.stringify({
        epoch,
        seq: seq++,
        samples,
      })),
    });

  return {
    page,
    report,
    /** The last report was not stored: the next one goes with its seq again. */
    resend: () => seq--,
    /** A new spool starts numbering again. */
    restartSeq: () => (seq = 0),
    hubEnd,
  };
}

dbTest(
  "[e2e] host page: metrics not reporting with the reason, clock off by N s, spool reset and spool problems",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 12));
    const { page, report, resend, restartSeq, hubEnd } = await connectedHost(h, clock);
    // Just connected: no complaint yet.
    assert.doesNotMatch(await page(), /Metrics not reporting/);
    // Connected for two minutes and no report: said, with what to look at.
    clock.advance(120_000);
    assert.match(
      await page(),
      /Metrics not reporting: the agent is connected but no report has arrived yet; the agent's log \(journalctl -u capstan-agent\) says why\. Nothing has been stored/,
    );

    // The hub's disk is full: the page names the hub's error.
    const fault = await installMetricsFault(h);
    await fault.on();
    assert.equal((await report()).status, 503);
    resend();
    assert.match(
      await page(),
      /Metrics not reporting: the hub could not store its report: (database or disk is full|could not extend file: No space left on device)/,
    );
    await fault.off();

    // Reports arrive from a clock 90 s fast, from an agent that cannot write its spool.
    const res = await report({
      "x-capstan-agent-time": String(clock.now() + 90_000),
      "x-capstan-samples-lost": "12",
      "x-capstan-metrics-problem": encodeURIComponent(
        "the agent cannot write its metrics spool (Read-only file system (os error 30))",
      ),
    });
    assert.equal(res.status, 200);
    let html = await page();
    assert.doesNotMatch(html, /Metrics not reporting/);
    assert.match(html, /Clock off by 90 s: this host's clock is 90 s ahead of the hub's/);
    assert.match(
      html,
      /Metrics at risk: the agent cannot write its metrics spool \(Read-only file system \(os error 30\)\); 12 samples lost so far\./,
    );
    assert.doesNotMatch(html, /Metrics restarted/);

    // The spool directory was removed: a new epoch, mentioned; the clock was fixed, the spool too.
    clock.advance(10_000);
    restartSeq();
    assert.equal(
      (await report({ "x-capstan-agent-time": String(clock.now()) }, "spool-epoch-2")).status,
      200,
    );
    html = await page();
    assert.match(
      html,
      /Metrics restarted 2026-06-01 12:02:10 UTC: the agent's spool was made anew/,
    );
    assert.doesNotMatch(html, /Clock off/);
    assert.doesNotMatch(html, /Metrics at risk/);

    // Reports stop while the agent stays connected.
    clock.advance(90_000);
    assert.match(
      await page(),
      /Metrics not reporting: the agent is connected but its reports stopped arriving.*Last samples stored 2026-06-01 12:02:10 UTC/,
    );
    hubEnd.close();
  },
);

dbTest(
  "[e2e] host page: new series dropped at the host's series limit, with how many and when",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 12));
    const { page, report, hubEnd } = await connectedHost(h, clock, {
      CAPSTAN_METRICS_MAX_SERIES_PER_HOST: "3",
    });
    // Container ids as Docker makes them (64 hex digits).
    const web = "a".repeat(64), job = "b".repeat(64);
    const sample = (containers: Record<string, Record<string, number>>) => ({
      t: clock.now() - 1000,
      host: { "cpu.total_pct": 5 },
      containers,
    });
    assert.equal(
      (await report({}, undefined, [sample({ [web]: { cpu_pct: 1, mem_bytes: 2 } })])).status,
      200,
    );
    assert.doesNotMatch(await page(), /series dropped/);
    clock.advance(10_000);
    const res = await report({}, undefined, [
      sample({ [web]: { cpu_pct: 1, mem_bytes: 2 }, [job]: { cpu_pct: 1, mem_bytes: 2 } }),
    ]);
    assert.equal(res.status, 200, "a batch with dropped series is still accepted");
    assert.match(
      await page(),
      /2 new series dropped: this host reached its limit of 3 series with recent samples, so the samples of new series \(containers started since\) are not stored \(2 so far, the last 2026-06-01 12:00:10 UTC\); its existing series keep being stored\./,
    );
    hubEnd.close();
  },
);
