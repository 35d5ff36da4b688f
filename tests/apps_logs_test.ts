/**
 * Live app logs through the HTTP API on the real engine adopted as a single-node cluster: a
 * service with two replicas is followed over Server-Sent Events; a line a task writes after the
 * stream opened arrives, labelled with that task (`<service>.<slot>`) and the node's hostname; a
 * viewer that goes away leaves no agent stream behind; bad parameters are 400 naming the field.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { type SseEvent, sseReader } from "./support/sse.ts";
import { apiApps } from "./support/apps_api.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";

const SUITE = "apps-logs";
const ignored = dockerTestsIgnored(SUITE);

type Line = {
  stream: string;
  line: string;
  ts?: string;
  task: string;
  task_id: string;
  node: string;
};

dbTest(
  "[docker] apps: a service's logs followed live, every task, with task and node",
  async (h) => {
    if (ignored) return;
    const env = await apiApps(h, SUITE);
    const { f, docker } = env;
    const name = `logs-${crypto.randomUUID().slice(0, 6)}`;
    const api = `/api/v1/orgs/acme/apps/${name}`;
    try {
      const created = await f.call("member", "POST", "/api/v1/orgs/acme/apps", {
        name,
        spec: {
          services: [{
            name: "ticker",
            image: TEST_IMAGE,
            command: ["sh", "-c", "echo started; exec sleep 3600"],
            replicas: 2,
            stop_grace_s: 1,
          }],
        },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const first = await env.settled(name, 1);
      assert.equal(first.status, "running", first.reason);
      const status = (await f.call("viewer", "GET", `${api}/status`)).body;
      const tasks = status.services[0].tasks.filter((t: { state: string }) =>
        t.state === "running"
      );
      assert.equal(tasks.length, 2);

      const res = await f.t.request(`${api}/services/ticker/logs/stream?tail=10`, {
        cookie: f.users.viewer.cookie,
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
      const r = sseReader(res);
      assert.deepEqual(await r.next(), { event: "tail", data: [] });
      await eventually(
        () => Promise.resolve(f.agent.conn.openStreams > 0 ? true : undefined),
        "the agent stream to open",
        10_000,
      );
      // A task writes a line now, after the stream opened: to its main process's stdout.
      const task = tasks[1];
      const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
      const exec = await docker.execCreate(task.container_id, {
        cmd: ["sh", "-c", `echo ${marker} > /proc/1/fd/1`],
      });
      for await (const _ of await docker.execStart(exec.id)) { /* until it exits */ }
      const seen: Line[] = [];
      const events: SseEvent[] = [];
      while (!seen.some((l) => l.line === marker)) {
        const e = await r.next(20_000);
        assert.ok(e, `the stream ended after ${JSON.stringify(events)}`);
        events.push(e);
        assert.equal(e.event, "lines", JSON.stringify(e));
        seen.push(...e.data as Line[]);
      }
      const line = seen.find((l) => l.line === marker)!;
      const node = status.services[0].tasks[0].node as string;
      assert.ok(node, JSON.stringify(status.services[0].tasks[0]));
      assert.deepEqual(
        { task: line.task, task_id: line.task_id, node: line.node, stream: line.stream },
        { task: `ticker.${task.slot}`, task_id: task.id, node, stream: "stdout" },
      );
      assert.match(line.ts!, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      // Both replicas' first lines came with the tail, each its own task.
      const started = seen.filter((l) => l.line === "started").map((l) => l.task).sort();
      assert.deepEqual(started, tasks.map((t: { slot: number }) => `ticker.${t.slot}`).sort());

      // The app page offers the same live viewer as containers, on this service's stream.
      const page = await f.t.request(`/o/acme/apps/${name}`, { cookie: f.users.viewer.cookie });
      const html = await page.text();
      assert.equal(page.status, 200);
      const island = /<capstan-island data-island="LogViewer"[^>]*data-props="([^"]*)"/.exec(html);
      assert.ok(island, "the log viewer island is on the app page");
      const props = JSON.parse(island[1].replaceAll("&quot;", '"').replaceAll("&amp;", "&"));
      assert.equal(
        props.streamUrl,
        `/api/v1/orgs/acme/apps/${created.body.app.id}/services/ticker/logs/stream`,
      );
      assert.equal(props.label, "Logs of ticker");
      assert.match(
        html,
        /<noscript>[\s\S]*started[\s\S]*<\/noscript>/,
        "the tail without JavaScript",
      );

      // The viewer goes away: the agent's stream goes with it.
      await r.cancel();
      await eventually(
        () => Promise.resolve(f.agent.conn.openStreams === 0 ? true : undefined),
        "the agent stream to close",
        10_000,
      );

      // Refusals: an unknown service is 404, a bad tail 400 naming it, another org sees nothing.
      const missing = await f.call("viewer", "GET", `${api}/services/nope/logs/stream`);
      assert.equal(missing.status, 404);
      const bad = await f.call("viewer", "GET", `${api}/services/ticker/logs/stream?tail=99999`);
      assert.equal(bad.status, 400);
      assert.ok(bad.body.error.fields.tail, JSON.stringify(bad.body));
      const outsider = await f.t.user("olga@globex.io", { org: "globex", role: "owner" });
      const foreign = await f.t.request(
        `/api/v1/orgs/globex/apps/${name}/services/ticker/logs/stream`,
        {
          cookie: outsider.cookie,
        },
      );
      assert.equal(foreign.status, 404);
      await foreign.body?.cancel();
      assert.equal(f.agent.conn.openStreams, 0, "a refused viewer leaves nothing");
    } finally {
      await env.close();
    }
  },
);
