/**
 * Alert rules name metrics that exist (issue 11, item 12): the API refuses an unknown series with
 * the closest names, a label its family does not carry, and host/container mix-ups; it lists the
 * catalogue (collected families with units, and the label values the organization's hosts sent);
 * the rule form offers the same catalogue and shows the refusal next to the field.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { closeMatches } from "../lib/alerts/metric_catalog.ts";

const CTR = "c".repeat(64);

dbTest(
  "[e2e] alert rules: unknown metrics are refused with close matches; the form offers the catalogue",
  async (h) => {
    const t = testApp(h);
    const s = t.services;
    const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
    const org = (await s.orgs.bySlug("acme"))!;
    const { host: created, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, {
      name: "web-1",
    });
    await s.hosts.enroll(SYSTEM_CTX, {
      token: enrollment.token,
      machineId: "machine-metrics-0001",
      hostname: "web-1",
    });
    const host = (await s.hosts.byId(created.id))!;
    // What an agent sends: labelled host series and one container's series.
    await s.metrics.ingest(host, {
      seq: 0,
      dropped: 0,
      samples: [{
        t: Date.now(),
        host: {
          "load.1": 0.5,
          "fs.used_pct{mount=/}": 40,
          "fs.used_pct{mount=/data}": 70,
          "net.rx_bps{iface=eth0}": 1000,
        },
        containers: { [CTR]: { "ctr.cpu_pct": 3, "ctr.mem_pct": 10 } },
      }],
    });
    const api = async (method: string, path: string, json?: unknown) => {
      const res = await t.request(`/api/v1/orgs/acme${path}`, {
        method,
        cookie: owner.cookie,
        json,
      });
      return { status: res.status, body: await res.json() };
    };
    const rule = (metric: string, container = false) =>
      api("POST", "/alert-rules", { name: metric, kind: "metric", metric, trigger: 1, container });

    // The series is load.1: "load.1m" was saved happily before.
    const bad = await rule("load.1m");
    assert.equal(bad.status, 400);
    const why = bad.body.error.fields.metric as string;
    assert.match(why, /"load\.1m" is not a metric the agents report; did you mean load\.1,/);
    assert.match(why, /load\.15/);
    assert.match(why, /load\.5/);
    assert.equal((await rule("load.1")).status, 201);
    assert.equal((await rule("fs.used_pct{mount=/data}")).status, 201);
    assert.equal((await rule("fs.used_pct")).status, 201, "a family covers every mount");
    const label = await rule("fs.used_pct{device=/}");
    assert.equal(label.status, 400);
    assert.match(
      label.body.error.fields.metric,
      /labelled by mount, as in fs\.used_pct\{mount=\/\}/,
    );
    const mixed = await rule("cpu.total_pct", true);
    assert.match(mixed.body.error.fields.metric, /host metric; .* ctr\.cpu_pct/);
    const other = await rule("ctr.cpu_pct", false);
    assert.match(other.body.error.fields.metric, /container metric/);
    assert.equal((await rule("ctr.cpu_pct", true)).status, 201);
    // An update is checked the same way.
    const rules = (await api("GET", "/alert-rules")).body.items as { id: string; name: string }[];
    const id = rules.find((r) => r.name === "load.1")!.id;
    assert.equal((await api("PATCH", `/alert-rules/${id}`, { metric: "load.1m" })).status, 400);

    // The catalogue: collected families with units, label values seen, container series apart.
    const catalog = await api("GET", "/metric-catalog");
    assert.equal(catalog.status, 200);
    const items = catalog.body.items as {
      key: string;
      scope: string;
      unit: string;
      label: string | null;
      values: string[];
      seen: boolean;
    }[];
    const fs = items.find((f) => f.key === "fs.used_pct")!;
    assert.deepEqual(
      { scope: fs.scope, unit: fs.unit, label: fs.label, values: fs.values, seen: fs.seen },
      { scope: "host", unit: "%", label: "mount", values: ["/", "/data"], seen: true },
    );
    assert.deepEqual(items.find((f) => f.key === "ctr.cpu_pct")?.scope, "container");
    assert.equal(items.find((f) => f.key === "net.rx_bps")?.unit, "bytes/s");
    assert.equal(items.find((f) => f.key === "gpu.temp_c")?.seen, false, "known before it is sent");

    // The form: a datalist of every family and every labelled series seen, and the catalogue.
    const form = await (await t.request("/o/acme/alerts/rules/new?kind=metric", {
      cookie: owner.cookie,
    })).text();
    assert.match(form, /<input[^>]*name="metric"[^>]*list="rule-metric-list"/);
    assert.match(form, /<datalist id="rule-metric-list">/);
    for (
      const v of ["load.1", "ctr.mem_pct", "fs.used_pct{mount=/data}", "net.rx_bps{iface=eth0}"]
    ) {
      assert.ok(form.includes(`<option value="${v}"`), `offers ${v}`);
    }
    assert.match(form, /<details class="metric-catalog"/);
    assert.match(form, /<code>fs\.used_pct<\/code>[\s\S]*?%[\s\S]*?mount: \/, \/data/);
    // A refusal shows beside the field, with what was typed kept.
    const posted = await t.request("/o/acme/alerts/rules/new", {
      method: "POST",
      cookie: owner.cookie,
      body: new URLSearchParams({ kind: "metric", name: "Load", metric: "load.1m", trigger: "4" }),
    });
    assert.equal(posted.status, 400);
    const html = await posted.text();
    assert.match(html, /id="rule-metric-error">[^<]*did you mean load\.1/);
    assert.match(html, /name="metric"[^>]*value="load\.1m"/);
  },
);

dbTest("metricCatalog() and closeMatches() suggest names a few edits away", async (h) => {
  const t = testApp(h);
  const org = await t.services.orgs.create(SYSTEM_CTX, { slug: "empty", name: "Empty" });
  const families = await t.services.alerts.metricCatalog(org.id);
  assert.ok(families.some((f) => f.key === "mem.used_pct" && !f.seen));
  assert.deepEqual(closeMatches("mem.used_prc", families).slice(0, 1), ["mem.used_pct"]);
  assert.deepEqual(closeMatches("cpu.total", families).slice(0, 1), ["cpu.total_pct"]);
  assert.deepEqual(closeMatches("zzz.zzz", families), []);
});
