import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { gzip } from "../agent/metrics/reporter.ts";
import { manualClock } from "./support/clock.ts";

async function enrolledHost(t: ReturnType<typeof testApp>, org: string) {
  const o = (await t.services.orgs.bySlug(org))!;
  const { host, enrollment } = await t.services.hosts.create(SYSTEM_CTX, o.id, {
    name: `h-${crypto.randomUUID().slice(0, 6)}`,
  });
  const { token } = await t.services.hosts.enroll(SYSTEM_CTX, {
    token: enrollment.token,
    machineId: "machine-0001",
    hostname: "h",
  });
  return { host, token };
}

dbTest(
  "[e2e] agent report: gzip batch committed once, retries acknowledged as duplicates, live event published",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("o@x.io", { org: "acme", role: "owner" });
    const { host, token } = await enrolledHost(t, "acme");
    const now = t.services.clock.now();
    const batch = {
      seq: 0,
      dropped: 0,
      samples: [{ t: now - 2000, host: { "cpu.total_pct": 10 } }, {
        t: now - 1000,
        host: { "cpu.total_pct": 30 },
      }],
    };
    const live: unknown[] = [];
    const unsubscribe = t.services.bus.subscribe((topic, data) =>
      topic === `org:${host.org_id}:metrics.${host.id}` && live.push(data)
    );
    const send = async (body: unknown, auth = token) =>
      await t.app.request("http://hub.test/api/v1/agent/report", {
        method: "POST",
        headers: {
          authorization: `Bearer ${auth}`,
          "x-capstan-machine-id": "machine-0001",
          "content-type": "application/json",
          "content-encoding": "gzip",
        },
        body: await gzip(JSON.stringify(body)),
      });
    const first = await send(batch);
    assert.equal(first.status, 200);
    const noClock = { refused: { future: 0, old: 0 }, skew_ms: null };
    assert.deepEqual(await first.json(), { seq: 0, duplicate: false, ...noClock });
    const again = await send(batch);
    assert.deepEqual(await again.json(), { seq: 0, duplicate: true, ...noClock });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(live.length, 1, "published once");
    unsubscribe();

    const bad = await send({ seq: -1, samples: [] });
    assert.equal(bad.status, 400);
    assert.ok((await bad.json()).error.fields.seq);
    const noToken = await t.app.request("http://hub.test/api/v1/agent/report", {
      method: "POST",
      body: "{}",
    });
    assert.equal(noToken.status, 401);
    const userToken = await t.token(owner.id, "acme");
    assert.equal((await send(batch, userToken)).status, 401, "a user token is not a host token");

    const m = await (await t.request(
      `/api/v1/orgs/acme/hosts/${host.id}/metrics?from=${now - 60_000}&to=${now}`,
      {
        cookie: owner.cookie,
      },
    )).json();
    assert.equal(m.tier, "raw");
    assert.deepEqual(m.series[0].key, "cpu.total_pct");
    assert.deepEqual(m.series[0].points.map((p: number[]) => p[1]), [10, 30]);
    await t.services.metrics.rollups.run({ all: true });
    const s = await (await t.request(`/api/v1/orgs/acme/hosts/${host.id}/stats?range=1h`, {
      cookie: owner.cookie,
    }))
      .json();
    assert.equal(s.series[0].max, 30);
    assert.equal(s.relative_error, 0.01);
  },
);

dbTest(
  "[e2e] metrics API: other organizations' hosts are 404, bad input is 400 naming the field",
  async (h) => {
    const t = testApp(h);
    await t.user("o@x.io", { org: "acme", role: "owner" });
    const outsider = await t.user("x@y.io", { org: "globex", role: "owner" });
    const { host } = await enrolledHost(t, "acme");
    assert.equal(
      (await t.request(`/api/v1/orgs/acme/hosts/${host.id}/metrics`, { cookie: outsider.cookie }))
        .status,
      404,
    );
    assert.equal(
      (await t.request(`/api/v1/orgs/acme/hosts/${host.id}/stats`, { cookie: outsider.cookie }))
        .status,
      404,
    );
    const owner = await t.user("o2@x.io", { org: "acme", role: "viewer" });
    const r = await t.request(
      `/api/v1/orgs/acme/hosts/${host.id}/metrics?metric=${encodeURIComponent("cpu;drop")}`,
      { cookie: owner.cookie },
    );
    assert.equal(r.status, 400);
    assert.ok((await r.json()).error.fields.metric);
    const r2 = await t.request(`/api/v1/orgs/acme/hosts/${host.id}/stats?range=2y`, {
      cookie: owner.cookie,
    });
    assert.equal(r2.status, 400);
    assert.equal(
      (await t.request(`/api/v1/orgs/acme/hosts/not-a-host/metrics`, { cookie: owner.cookie }))
        .status,
      400,
    );
  },
);

dbTest(
  "[e2e] /metrics: Prometheus text for the token's organization, 401 without credentials",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("o@x.io", { org: "acme", role: "owner" });
    const { host, token } = await enrolledHost(t, "acme");
    const now = t.services.clock.now();
    await t.app.request("http://hub.test/api/v1/agent/report", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "x-capstan-machine-id": "machine-0001",
        "content-encoding": "gzip",
      },
      body: await gzip(JSON.stringify({
        seq: 0,
        samples: [{ t: now - 1000, host: { "cpu.total_pct": 42, "fs.used_pct{mount=/}": 7 } }],
      })),
    });
    assert.equal((await t.app.request("http://hub.test/metrics")).status, 401);
    const read = await t.token(owner.id, "acme", "read");
    const res = await t.request("/metrics", { token: read });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(
      text,
      new RegExp(
        `^capstan_cpu_usage_ratio\\{host="${host.name}",host_id="${host.id}"\\} 0\\.42$`,
        "m",
      ),
    );
    assert.match(text, /^capstan_filesystem_used_ratio\{[^}]*mountpoint="\/"\} 0\.07$/m);
    assert.match(
      text,
      new RegExp(`^capstan_host_up\\{host="${host.name}",host_id="${host.id}"\\} 0$`, "m"),
    );
  },
);

dbTest(
  "[e2e] /stats?range=1h has figures as soon as a new host's first report is in (no rollup yet)",
  async (h) => {
    // Mid-minute, so the three samples share one minute.
    const t = testApp(h, manualClock(Date.UTC(2026, 0, 1, 0, 0, 30)));
    const owner = await t.user("o@x.io", { org: "acme", role: "owner" });
    const { host, token } = await enrolledHost(t, "acme");
    const now = t.services.clock.now();
    const res = await t.app.request("http://hub.test/api/v1/agent/report", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "x-capstan-machine-id": "machine-0001",
        "content-encoding": "gzip",
      },
      body: await gzip(JSON.stringify({
        seq: 0,
        samples: [
          { t: now - 3000, host: { "cpu.total_pct": 100, "net.rx_bps{iface=eth0}": 0 } },
          { t: now - 2000, host: { "cpu.total_pct": 100, "net.rx_bps{iface=eth0}": 165 } },
          { t: now - 1000, host: { "cpu.total_pct": 40, "net.rx_bps{iface=eth0}": 0 } },
        ],
      })),
    });
    assert.equal(res.status, 200);
    const s = await (await t.request(`/api/v1/orgs/acme/hosts/${host.id}/stats?range=1h`, {
      cookie: owner.cookie,
    })).json();
    const cpu = s.series.find((x: { key: string }) => x.key === "cpu.total_pct");
    assert.ok(cpu, JSON.stringify(s));
    assert.equal(cpu.count, 3);
    assert.equal(cpu.max, 100);
    assert.ok(cpu.p95 <= cpu.max, `p95 ${cpu.p95} above max ${cpu.max}`);
    assert.equal(cpu.percentiles_of, "samples");
    const rx = s.series.find((x: { key: string }) => x.key === "net.rx_bps{iface=eth0}");
    assert.ok(rx.p95 > 0, "throughput percentiles are of minute averages, not idle seconds");
    assert.equal(rx.percentiles_of, "1m_averages");
    assert.equal(rx.p95, 55);
  },
);

dbTest(
  "[e2e] metrics API: the old host-addressed paths are deprecated aliases answering as the new ones",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("o@x.io", { org: "acme", role: "owner" });
    const outsider = await t.user("x@y.io", { org: "globex", role: "owner" });
    const { host } = await enrolledHost(t, "acme");
    const ctr = "a".repeat(64);
    const now = t.services.clock.now();
    const range = `from=${now - 60_000}&to=${now}`;
    const pairs = [
      [`/api/v1/hosts/${host.id}/metrics?${range}`, `hosts/${host.id}/metrics?${range}`],
      [`/api/v1/hosts/${host.id}/stats?range=1h`, `hosts/${host.id}/stats?range=1h`],
      [`/api/v1/hosts/${host.id}/metrics/series`, `hosts/${host.id}/metrics/series`],
      [`/api/v1/hosts/${host.id}/containers/latest`, `hosts/${host.id}/metrics/containers`],
      [
        `/api/v1/containers/${host.id}/${ctr}/metrics?${range}`,
        `hosts/${host.id}/containers/${ctr}/metrics?${range}`,
      ],
      [
        `/api/v1/containers/${host.id}/${ctr}/stats?range=1h`,
        `hosts/${host.id}/containers/${ctr}/stats?range=1h`,
      ],
      ["/api/v1/audit?org=acme&limit=5", "audit?limit=5"],
    ];
    for (const [old, path] of pairs) {
      const a = await t.request(old, { cookie: owner.cookie });
      const b = await t.request(`/api/v1/orgs/acme/${path}`, { cookie: owner.cookie });
      assert.equal(a.status, 200, old);
      assert.equal(b.status, 200, path);
      assert.deepEqual(await a.json(), await b.json(), `${old} answers as ${path}`);
      const other = await t.request(old, { cookie: outsider.cookie });
      await other.body?.cancel();
      assert.equal(other.status, 404, `${old}: another organization's host`);
    }
    const doc = await (await t.request("/api/v1/openapi.json")).json();
    for (
      const old of [
        "/api/v1/hosts/{hostId}/metrics",
        "/api/v1/containers/{hostId}/{containerId}/stats",
      ]
    ) {
      assert.equal(doc.paths[old].get.deprecated, true, old);
    }
    assert.equal(doc.paths["/api/v1/orgs/{org}/hosts/{hostId}/metrics"].get.deprecated, undefined);
  },
);
