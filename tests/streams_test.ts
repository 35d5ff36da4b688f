/**
 * Live logs and stats end to end: the HTTP endpoints (SSE and downloads) through the hub's shared
 * streams to an in-process agent on the real Docker engine.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { attachTestAgent, type TestAgent } from "./support/agent.ts";
import { type SseEvent, sseReader } from "./support/sse.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  HOSTILE_NAMES,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const SUITE = "streams";
const ignored = dockerTestsIgnored(SUITE);
/** Prints numbered lines to stdout and stderr every 200 ms, after three lines at start. */
const CHATTY = [
  "sh",
  "-c",
  "echo pre-1; echo pre-2 >&2; echo pre-3; i=0; " +
  "while true; do i=$((i+1)); echo out-$i; echo err-$i >&2; sleep 0.2; done",
];

type Line = { stream: string; line: string; ts?: string };

async function setup(h: DbHandle) {
  const t = testApp(h);
  t.services.streams.configure({ lingerMs: 0 });
  const viewer = await t.user("vic@acme.io", { org: "acme", role: "viewer" });
  const outsider = await t.user("olga@globex.io", { org: "globex", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const agent = await attachTestAgent(t.services, org.id);
  return { t, viewer, outsider, agent };
}

async function startContainer(
  agent: TestAgent,
  cmd: string[],
  extra: Record<string, unknown> = {},
) {
  const { id } = await agent.conn.call<{ id: string }>("container.create", {
    spec: {
      name: testName(SUITE, "c"),
      image: TEST_IMAGE,
      cmd,
      labels: testLabels(SUITE),
      ...extra,
    },
    start: true,
  });
  return id;
}

async function teardown(s: Awaited<ReturnType<typeof setup>>) {
  s.t.services.streams.close();
  await s.agent.stop();
  await cleanupSuite(s.agent.docker, SUITE);
  s.agent.docker.close();
}

/** Reads events until `done` says so, collecting log lines. */
async function collect(
  r: ReturnType<typeof sseReader>,
  done: (lines: Line[], e: SseEvent) => boolean,
): Promise<{ lines: Line[]; events: SseEvent[] }> {
  const lines: Line[] = [];
  const events: SseEvent[] = [];
  for (;;) {
    const e = await r.next(15_000);
    if (!e) {
      throw new Error(`stream ended early after ${JSON.stringify(events.map((x) => x.event))}`);
    }
    events.push(e);
    if (e.event === "tail" || e.event === "lines") lines.push(...(e.data as Line[]));
    if (done(lines, e)) return { lines, events };
  }
}

const waitFor = async (check: () => boolean, what: string, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

dbTest(
  "[docker] logs SSE: tail then followed lines, stdout/stderr marked; downloads; refusals",
  async (h) => {
    if (ignored) return;
    const s = await setup(h);
    try {
      const id = await startContainer(s.agent, CHATTY);
      const base = `/api/v1/orgs/acme/hosts/${s.agent.host.id}/containers/${id}`;
      await new Promise((r) => setTimeout(r, 700));

      const res = await s.t.request(`${base}/logs/stream?tail=3`, { cookie: s.viewer.cookie });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const r = sseReader(res);
      const first = await r.next();
      assert.equal(first?.event, "tail");
      const tail = first!.data as Line[];
      assert.equal(tail.length, 3);
      const lastTail = tail.at(-1)!.line;
      // Follow until two new numbered lines of each stream arrived after the tail.
      const n = Number(/-(\d+)$/.exec(lastTail)?.[1] ?? 0);
      const { lines } = await collect(r, (ls) => ls.some((l) => l.line === `err-${n + 2}`));
      await r.cancel();
      const all = [...tail, ...lines];
      const texts = lines.map((l) => `${l.stream}:${l.line}`);
      assert.ok(texts.includes(`stdout:out-${n + 1}`), texts.join(" "));
      assert.ok(texts.includes(`stderr:err-${n + 1}`), texts.join(" "));
      // No line twice (the join of tail and follow neither repeats nor skips).
      const seen = all.slice(3).map((l) => `${l.stream}:${l.line}:${l.ts}`);
      assert.equal(new Set(seen).size, seen.length);
      for (const l of lines) {
        assert.match(l.ts!, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
        assert.equal(
          l.stream,
          l.line.startsWith("err") || l.line === "pre-2" ? "stderr" : "stdout",
        );
      }
      await waitFor(() => s.t.services.streams.counts().upstreams === 0, "upstream to stop");

      // Without timestamps the lines carry none.
      const plain = await s.t.request(`${base}/logs/stream?tail=2&timestamps=0`, {
        cookie: s.viewer.cookie,
      });
      const pr = sseReader(plain);
      const pt = await pr.next();
      await pr.cancel();
      assert.deepEqual(Object.keys((pt!.data as Line[])[0]).sort(), ["line", "stream"]);

      // Downloads: text and JSON, as attachments.
      const txt = await s.t.request(`${base}/logs?tail=5&format=txt`, { cookie: s.viewer.cookie });
      assert.equal(txt.status, 200);
      assert.match(
        txt.headers.get("content-disposition")!,
        /^attachment; filename="[0-9a-f]{12}-logs\.txt"$/,
      );
      const rows = (await txt.text()).trimEnd().split("\n");
      assert.equal(rows.length, 5);
      for (const row of rows) assert.match(row, /^\S+Z (stdout|stderr) (out|err)-\d+$/);
      const json = await s.t.request(`${base}/logs?tail=4&format=json`, {
        cookie: s.viewer.cookie,
      });
      assert.match(json.headers.get("content-type")!, /^application\/json/);
      assert.match(json.headers.get("content-disposition")!, /-logs\.json"$/);
      const items = await json.json() as Line[];
      assert.equal(items.length, 4);
      assert.ok(items.every((l) => ["stdout", "stderr"].includes(l.stream) && l.ts && l.line));

      // Another organization's host is missing; hostile ids and bad params are 400 naming the field.
      const other = await s.t.request(`${base}/logs?tail=5`, { cookie: s.outsider.cookie });
      assert.equal(other.status, 404);
      await other.body?.cancel();
      const globex = (await s.t.services.orgs.bySlug("globex"))!;
      const foreign = await s.t.request(
        `/api/v1/orgs/globex/hosts/${s.agent.host.id}/containers/${id}/logs`,
        { cookie: s.outsider.cookie },
      );
      assert.equal(foreign.status, 404, "a host of acme is not found through globex");
      await foreign.body?.cancel();
      assert.ok(globex);
      for (const bad of HOSTILE_NAMES.filter((x) => x && !/^\.+$/.test(x) && !x.includes("/"))) {
        const res = await s.t.request(
          `/api/v1/orgs/acme/hosts/${s.agent.host.id}/containers/${
            encodeURIComponent(bad)
          }/logs/stream`,
          { cookie: s.viewer.cookie },
        );
        const body = await res.json();
        assert.equal(res.status, 400, `id ${JSON.stringify(bad)} → ${res.status}`);
        assert.ok(body.error.fields.id, JSON.stringify(body));
      }
      const badTail = await s.t.request(`${base}/logs?tail=10001`, { cookie: s.viewer.cookie });
      assert.equal(badTail.status, 400);
      assert.ok((await badTail.json()).error.fields.tail);
      const badHost = await s.t.request(`/api/v1/orgs/acme/hosts/..%2F/containers/${id}/logs`, {
        cookie: s.viewer.cookie,
      });
      assert.ok([400, 404].includes(badHost.status));
      await badHost.body?.cancel();
      const missing = await s.t.request(`${base.replace(id, "a".repeat(64))}/logs/stream`, {
        cookie: s.viewer.cookie,
      });
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      assert.equal(s.t.services.streams.counts().upstreams, 0, "a refused viewer leaves nothing");

      // Offline host: 503.
      await s.agent.stop();
      const off = await s.t.request(`${base}/logs/stream`, { cookie: s.viewer.cookie });
      assert.equal(off.status, 503);
      await off.body?.cancel();
    } finally {
      await teardown(s);
    }
  },
);

dbTest(
  "[docker] logs SSE: viewers share one upstream, stopped when the last leaves; a stalled viewer is dropped",
  async (h) => {
    if (ignored) return;
    const s = await setup(h);
    try {
      const id = await startContainer(s.agent, CHATTY);
      const url = `/api/v1/orgs/acme/hosts/${s.agent.host.id}/containers/${id}/logs/stream?tail=1`;
      const follows = () =>
        s.agent.sent.filter((m) =>
          m.t === "call" && m.op === "container.logs" && m.params?.follow === true
        );

      const a = sseReader(await s.t.request(url, { cookie: s.viewer.cookie }));
      const b = sseReader(await s.t.request(url, { cookie: s.viewer.cookie }));
      const ga = await collect(a, (ls) => ls.filter((l) => l.line.startsWith("out-")).length >= 3);
      const gb = await collect(b, (ls) => ls.filter((l) => l.line.startsWith("out-")).length >= 3);
      assert.ok(ga.lines.length >= 3 && gb.lines.length >= 3);
      assert.equal(follows().length, 1, "two viewers, one upstream agent stream");
      assert.deepEqual(s.t.services.streams.counts(), { upstreams: 1, viewers: 2, started: 1 });

      await a.cancel();
      await waitFor(() => s.t.services.streams.counts().viewers === 1, "viewer a to leave");
      assert.equal(s.t.services.streams.counts().upstreams, 1);
      await b.cancel();
      await waitFor(() => s.t.services.streams.counts().upstreams === 0, "upstream to stop");
      const streamId = follows()[0].id;
      await waitFor(
        () => s.agent.sent.some((m) => m.t === "cancel" && m.id === streamId),
        "the cancel to reach the agent",
      );

      // A viewer that never reads fills its small queue and is dropped; the reader goes on.
      s.t.services.streams.configure({ maxQueueMessages: 4 });
      const stalled = await s.t.request(url, { cookie: s.viewer.cookie });
      const reader = sseReader(await s.t.request(url, { cookie: s.viewer.cookie }));
      assert.equal(follows().length, 2);
      // The reader keeps reading while the stalled one fills up.
      const reading = collect(
        reader,
        (ls) => ls.filter((l) => l.line.startsWith("out-")).length >= 8,
      );
      await waitFor(
        () => s.t.services.streams.counts().viewers === 1,
        "the stalled viewer to be dropped",
      );
      const more = await reading;
      assert.ok(more.lines.length >= 8);
      assert.equal(follows().length, 2, "the upstream was not restarted");
      // The stalled client finds an end event saying why, once it reads.
      const sr = sseReader(stalled);
      const ev: SseEvent[] = [];
      for (let e = await sr.next(); e; e = await sr.next()) ev.push(e);
      assert.deepEqual(ev.at(-1), {
        event: "end",
        data: {
          code: "slow_consumer",
          reason: "This viewer fell behind the stream and was disconnected",
        },
      });
      await reader.cancel();
      await waitFor(() => s.t.services.streams.counts().upstreams === 0, "upstream to stop");
    } finally {
      await teardown(s);
    }
  },
);

dbTest(
  "[docker] stats SSE: summaries about once a second with the container's limits",
  async (h) => {
    if (ignored) return;
    const s = await setup(h);
    try {
      const id = await startContainer(s.agent, ["sh", "-c", "while true; do :; done"], {
        cpus: 0.5,
        memory_bytes: 64 * 1024 * 1024,
      });
      const url = `/api/v1/orgs/acme/hosts/${s.agent.host.id}/containers/${id}/stats/stream`;
      const res = await s.t.request(url, { cookie: s.viewer.cookie });
      assert.equal(res.status, 200);
      const r = sseReader(res);
      const started = Date.now();
      const got: Record<string, number | null>[] = [];
      while (got.length < 3) {
        const e = await r.next(15_000);
        assert.equal(e?.event, "stats");
        got.push(e!.data as Record<string, number | null>);
      }
      await r.cancel();
      const last = got.at(-1)!;
      assert.ok(Date.now() - started < 8000);
      assert.equal(last.cpuLimitCores, 0.5);
      assert.equal(last.memoryLimitBytes, 64 * 1024 * 1024);
      assert.ok(last.memoryUsedBytes! > 0 && last.memoryUsedBytes! < 64 * 1024 * 1024);
      assert.ok(last.pids! >= 1);
      assert.equal(typeof last.cpuPercentOfHost, "number");
      // A busy loop under a 0.5-CPU limit uses most of its limit.
      assert.ok(
        last.cpuPercentOfLimit! > 40 && last.cpuPercentOfLimit! <= 130,
        String(last.cpuPercentOfLimit),
      );
      assert.ok(last.networkRxBytesPerSec !== undefined && last.blockReadBytesPerSec !== undefined);
      await waitFor(() => s.t.services.streams.counts().upstreams === 0, "stats upstream to stop");

      // A stopped container: the stream says so and ends.
      await s.agent.conn.call("container.kill", { id });
      let end: SseEvent | undefined;
      for (let i = 0; i < 20 && end?.data === undefined; i++) {
        const res2 = await s.t.request(url, { cookie: s.viewer.cookie });
        const r2 = sseReader(res2);
        const e = await r2.next();
        await r2.cancel();
        if (e?.event === "end") end = e;
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(end?.data, { code: "ended", reason: "The container is not running" });
    } finally {
      await teardown(s);
    }
  },
);

dbTest(
  "[docker] container page: facts without env values, live parts, offline fallback, refusals",
  async (h) => {
    if (ignored) return;
    const s = await setup(h);
    try {
      const id = await startContainer(s.agent, ["sh", "-c", "echo hello; sleep 600"], {
        env: { DB_PASSWORD: "hunter2-secret", MODE: "demo" },
        ports: [{ container_port: 8080, host_port: 0, host_ip: "127.0.0.1" }],
        restart_policy: "unless-stopped",
      });
      const path = `/o/acme/containers/${s.agent.host.id}/${id}`;
      const res = await s.t.request(path, { cookie: s.viewer.cookie });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /capstan-test-streams-c-/);
      assert.match(html, /running/);
      assert.match(html, /unless-stopped/);
      assert.match(html, /DB_PASSWORD/);
      assert.match(html, /MODE/);
      assert.ok(!html.includes("hunter2-secret"), "environment values never reach the page");
      assert.ok(!html.includes("demo<"), "environment values never reach the page");
      assert.match(html, /127\.0\.0\.1:\d+<\/code> → <code>8080\/tcp/);
      // Without built islands the page still offers the logs as downloads.
      assert.match(html, new RegExp(`/containers/${id}/logs\\?tail=1000&amp;format=txt`));
      // A viewer gets no lifecycle buttons (members may act).
      assert.ok(!html.includes(`${path}/stop`));

      const byName = await s.t.request(
        `/o/acme/containers/${s.agent.host.id}/${id.slice(0, 12)}`,
        { cookie: s.viewer.cookie },
      );
      assert.equal(byName.status, 200);
      await byName.body?.cancel();
      const missing = await s.t.request(
        `/o/acme/containers/${s.agent.host.id}/${"f".repeat(64)}`,
        { cookie: s.viewer.cookie },
      );
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      const hostile = await s.t.request(
        `/o/acme/containers/${s.agent.host.id}/${encodeURIComponent("$(id)")}`,
        { cookie: s.viewer.cookie },
      );
      assert.equal(hostile.status, 400);
      await hostile.body?.cancel();
      const other = await s.t.request(path, { cookie: s.outsider.cookie });
      assert.equal(other.status, 404);
      await other.body?.cancel();

      // Offline: the facts the agent last reported, and no live parts.
      await s.agent.stop();
      await waitFor(() => !s.t.services.agents.isOnline(s.agent.host.id), "the host to go offline");
      const off = await s.t.request(path, { cookie: s.viewer.cookie });
      assert.equal(off.status, 200);
      const offHtml = await off.text();
      assert.match(offHtml, /agent is offline/);
      assert.match(offHtml, /capstan-test-streams-c-/);
      assert.ok(!offHtml.includes("/logs/stream"));
    } finally {
      await teardown(s);
    }
  },
);

dbTest(
  "[docker] logs SSE: a client that goes away (request aborted) leaves the stream",
  async (h) => {
    if (ignored) return;
    const s = await setup(h);
    try {
      const id = await startContainer(s.agent, CHATTY);
      const url = `/api/v1/orgs/acme/hosts/${s.agent.host.id}/containers/${id}/logs/stream?tail=1`;
      const ac = new AbortController();
      const res = await s.t.request(url, { cookie: s.viewer.cookie, signal: ac.signal });
      const r = sseReader(res);
      assert.equal((await r.next())?.event, "tail");
      assert.equal(s.t.services.streams.counts().viewers, 1);
      ac.abort();
      await waitFor(() => s.t.services.streams.counts().upstreams === 0, "the upstream to stop");
      await r.cancel();
    } finally {
      await teardown(s);
    }
  },
);
