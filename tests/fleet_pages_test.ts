/**
 * The fleet overview, the metrics parts of a host's page, the container figures API and the
 * metrics settings page (with its storage API), on both dialects: two hosts fed synthetic batches
 * through the metrics service, exactly what an agent report commits.
 */
import assert from "node:assert/strict";
import { sql } from "kysely";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import type { MetricsSample } from "../lib/protocol/metrics.ts";
import type { Db } from "../lib/db/mod.ts";
import { countRawSamples } from "../lib/metrics/chunks.ts";

const CTR = "c".repeat(64);
const GIB = 2 ** 30;

/** `n` one-second samples ending a second ago; CPU ramps up to `cpu` at the last sample. */
function samples(now: number, n: number, opts: { cpu: number; gpu?: boolean; ctr?: boolean }) {
  const out: MetricsSample[] = [];
  for (let i = 0; i < n; i++) {
    const t = now - (n - i) * 1000;
    const last = i === n - 1;
    const host: Record<string, number> = {
      "cpu.total_pct": last ? opts.cpu : (opts.cpu * i) / n,
      "cpu.user_pct": 5,
      "cpu.system_pct": 2,
      "cpu.iowait_pct": 1,
      "mem.used_pct": 25,
      "mem.used_bytes": 2 * GIB,
      "mem.total_bytes": 8 * GIB,
      "mem.cached_bytes": GIB,
      "load.1": 0.5,
      "load.5": 0.4,
      "load.15": 0.3,
      "net.rx_bps{iface=eth0}": 1000,
      "net.tx_bps{iface=eth0}": 500,
      "disk.read_bps{dev=sda}": 4096,
      "disk.write_bps{dev=sda}": 8192,
      "fs.used_pct{mount=/}": 61.5,
      "fs.used_bytes{mount=/}": 30 * GIB,
      "fs.total_bytes{mount=/}": 50 * GIB,
      "fs.inodes_used_pct{mount=/}": 12,
      "host.uptime_s": 3600 + i,
    };
    if (opts.gpu) {
      host["gpu.util_pct{gpu=0}"] = 77;
      host["gpu.mem_used_bytes{gpu=0}"] = 4 * GIB;
      host["gpu.mem_total_bytes{gpu=0}"] = 16 * GIB;
      host["gpu.temp_c{gpu=0}"] = 64;
    }
    const s: MetricsSample = { t, host };
    if (opts.ctr && i % 10 === 9) {
      s.containers = {
        [CTR]: { "ctr.cpu_pct": 12.5, "ctr.mem_used_bytes": 256 * 2 ** 20, "ctr.mem_pct": 3.1 },
      };
    }
    out.push(s);
  }
  return out;
}

async function rowsOf(db: Db, table: "metric_raw" | "metric_1m" | "metric_1h", hostId: string) {
  // Raw samples are stored compressed, many to a row: what the page counts is samples.
  if (table === "metric_raw") return await countRawSamples(db, hostId);
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)} r
    join metric_series s on s.id = r.series_id where s.host_id = ${hostId}`.execute(db);
  return Number(r.rows[0].n);
}

async function setup(h: Parameters<Parameters<typeof dbTest>[1]>[0]) {
  const t = testApp(h);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const outsider = await t.user("owner@globex.io", { org: "globex", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const make = async (name: string) =>
    (await t.services.hosts.create(SYSTEM_CTX, org.id, { name })).host;
  const a = await make("alpha");
  const b = await make("bravo");
  const quiet = await make("quiet");
  await t.services.hosts.applySnapshot(a, [{
    id: CTR,
    name: "web-1",
    image: "nginx:1",
    image_id: "sha256:" + "1".repeat(64),
    command: "nginx",
    state: "running",
    status: "Up 5 minutes",
    created: 1,
    labels: {},
    ports: [],
  }]);
  const now = t.services.clock.now();
  // Two batches for alpha (seq 0, 1) and one for bravo, as agents would send them.
  const sa = samples(now, 70, { cpu: 42, gpu: true, ctr: true });
  await t.services.metrics.ingest(a, { seq: 0, dropped: 0, samples: sa.slice(0, 35) });
  await t.services.metrics.ingest(a, { seq: 1, dropped: 0, samples: sa.slice(35) });
  await t.services.metrics.ingest(b, {
    seq: 0,
    dropped: 0,
    samples: samples(now, 70, { cpu: 20 }),
  });
  await t.services.metrics.rollups.run({ all: true });
  return { t, org, owner, admin, member, viewer, outsider, a, b, quiet };
}

dbTest("[e2e] fleet overview: headline figures and a card per host with sparkline", async (h) => {
  const { t, viewer, a, b, quiet } = await setup(h);
  const res = await t.request("/o/acme", { cookie: viewer.cookie });
  assert.equal(res.status, 200);
  const html = await res.text();
  for (const host of [a, b, quiet]) {
    assert.ok(html.includes(`data-host-card="${host.id}"`), `card of ${host.name}`);
    assert.ok(html.includes(`href="/o/acme/hosts/${host.id}"`), `link to ${host.name}`);
  }
  // CPU: average of the two reporting hosts' last samples (42 and 20); memory 4 of 16 GiB.
  assert.match(html, /data-fleet="cpu"[^]*?31\.0 %/);
  assert.match(html, /data-fleet="mem"[^]*?25\.0 %[^]*?4\.0 GiB of 16\.0 GiB/);
  assert.match(html, /data-fleet="net"[^]*?↓ 2.0 KiB\/s[^]*?↑ 1000 B\/s/);
  assert.match(html, /2 of 3 hosts reporting/);
  assert.match(html, /Hosts \(0 online\)/);
  assert.match(html, /data-fleet="containers"[^]*?stat-value">1</);
  // Each reporting card: its own figures and a full sparkline of the last 60 samples.
  const card = (id: string) => html.slice(html.indexOf(`data-host-card="${id}"`)).split("</li>")[0];
  assert.match(card(a.id), /data-fig="cpu">42\.0 %/);
  assert.match(card(a.id), /data-points="60"/);
  assert.match(card(b.id), /data-fig="cpu">20\.0 %/);
  assert.match(card(quiet.id), /No metrics yet — the agent reports every 10 s/);
  assert.match(card(quiet.id), /waiting for agent/);
  // Without built islands the page is static HTML: no script at all.
  assert.doesNotMatch(html, /<script/);
});

dbTest("[e2e] host page: gauges, stats table, containers, filesystem and GPU panels", async (h) => {
  const { t, viewer, outsider, a, b, quiet } = await setup(h);
  let html = await (await t.request(`/o/acme/hosts/${a.id}`, { cookie: viewer.cookie })).text();
  assert.match(html, /data-gauge="cpu"[^]*?42\.0 %/);
  assert.match(html, /data-gauge="mem"[^]*?2\.0 GiB of 8\.0 GiB/);
  assert.match(html, /data-gauge="disk"[^]*?Disk \/[^]*?61\.5 %/);
  assert.match(html, /data-gauge="load"[^]*?0\.50/);
  assert.match(html, /Statistics, last 1h/);
  assert.match(html, /data-key="cpu\.total_pct"[^]*?CPU<\/th>/);
  assert.match(html, /within 1 % of the exact value/);
  assert.match(html, /data-range="24h"/, "range links");
  for (const chart of ["cpu", "mem", "net", "disk", "load"]) {
    assert.ok(html.includes(`data-chart="${chart}"`), `${chart} chart`);
  }
  assert.match(html, /data-container="c{64}"[^]*?web-1[^]*?12\.5 %[^]*?256 MiB/);
  assert.match(html, /data-mount="\/"[^]*?61\.5 %[^]*?50\.0 GiB[^]*?12\.0 %/);
  assert.match(html, /data-gpu="0"[^]*?77\.0 %[^]*?64 °C/);
  // The facts and admin parts of the page are still there.
  assert.match(html, /id="engine-title"/);

  html = await (await t.request(`/o/acme/hosts/${a.id}?range=24h`, { cookie: viewer.cookie }))
    .text();
  assert.match(html, /Statistics, last 24h/);
  assert.match(html, /aria-current="true" data-range="24h"/);

  html = await (await t.request(`/o/acme/hosts/${b.id}`, { cookie: viewer.cookie })).text();
  assert.doesNotMatch(html, /data-gpu=/, "no GPU panel without GPU series");
  assert.match(html, /No containers on this host/);
  html = await (await t.request(`/o/acme/hosts/${quiet.id}`, { cookie: viewer.cookie })).text();
  assert.match(html, /No metrics yet — they start once the agent enrolls/);

  assert.equal((await t.request(`/o/acme/hosts/${a.id}`, { cookie: outsider.cookie })).status, 404);
  const res = await t.request(`/o/globex/hosts/${a.id}`, { cookie: outsider.cookie });
  assert.equal(res.status, 404, "another organization's host is not found under its own slug");
});

dbTest(
  "[e2e] containers latest API: newest figures per container, 404 for other orgs",
  async (h) => {
    const { t, viewer, outsider, a } = await setup(h);
    const res = await t.request(`/api/v1/orgs/acme/hosts/${a.id}/metrics/containers`, {
      cookie: viewer.cookie,
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.total, 1);
    assert.equal(body.items[0].name, "web-1");
    assert.equal(body.items[0].cpu_pct, 12.5);
    assert.equal(body.items[0].mem_used_bytes, 256 * 2 ** 20);
    assert.equal(body.items[0].net_rx_bps, null);
    assert.equal(
      (await t.request(`/api/v1/orgs/acme/hosts/${a.id}/metrics/containers`, {
        cookie: outsider.cookie,
      })).status,
      404,
    );
    assert.equal(
      (await t.app.request(`http://hub.test/api/v1/orgs/acme/hosts/${a.id}/metrics/containers`))
        .status,
      401,
    );
  },
);

dbTest(
  "[e2e] metrics storage: API counts match the rows, settings page for admins only",
  async (h) => {
    const { t, admin, member, viewer, outsider, owner, a, b, quiet } = await setup(h);
    const url = "/api/v1/orgs/acme/metrics/storage";
    const res = await t.request(url, { cookie: admin.cookie });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.dialect, h.dialect);
    assert.deepEqual(body.retention, { raw_hours: 24, minute_days: 30, hour_days: 365 });
    for (const host of [a, b]) {
      const row = body.hosts.find((x: { host_id: string }) => x.host_id === host.id);
      assert.equal(row.raw_rows, await rowsOf(h.db, "metric_raw", host.id), `${host.name} raw`);
      assert.equal(row.minute_rows, await rowsOf(h.db, "metric_1m", host.id), `${host.name} 1m`);
      assert.equal(row.hour_rows, await rowsOf(h.db, "metric_1h", host.id), `${host.name} 1h`);
      assert.ok(row.raw_rows > 0 && row.minute_rows > 0 && row.hour_rows > 0);
      assert.ok(row.estimated_bytes >= row.raw_rows * body.row_bytes.raw);
    }
    const q = body.hosts.find((x: { host_id: string }) => x.host_id === quiet.id);
    assert.deepEqual([q.series, q.raw_rows, q.estimated_bytes], [0, 0, 0]);
    assert.equal(
      body.total.raw_rows,
      (await rowsOf(h.db, "metric_raw", a.id)) + (await rowsOf(h.db, "metric_raw", b.id)),
    );
    // Alpha has more series (GPU, a container) than bravo, so it sorts first.
    assert.equal(body.hosts[0].host_id, a.id);

    assert.equal((await t.request(url, { cookie: member.cookie })).status, 403);
    assert.equal((await t.request(url, { cookie: outsider.cookie })).status, 404);

    const page = "/o/acme/settings/metrics";
    const html = await (await t.request(page, { cookie: admin.cookie })).text();
    assert.match(html, /data-retention="CAPSTAN_METRICS_RAW_HOURS">24 hours/);
    assert.match(html, /CAPSTAN_METRICS_MINUTE_DAYS/);
    assert.match(html, /CAPSTAN_METRICS_HOUR_DAYS/);
    assert.match(html, new RegExp(`data-host="${a.id}"[^]*?alpha`));
    assert.match(html, /aria-current="page">Settings</);
    for (const who of [member, viewer]) {
      assert.equal((await t.request(page, { cookie: who.cookie })).status, 403);
    }
    assert.equal((await t.request(page, { cookie: outsider.cookie })).status, 404);
    // The nav shows Settings to admins and owners only.
    const nav = async (cookie: string) => await (await t.request("/o/acme", { cookie })).text();
    assert.match(await nav(owner.cookie), /href="\/o\/acme\/settings\/metrics"/);
    assert.doesNotMatch(await nav(member.cookie), /settings\/metrics/);
  },
);
