/**
 * The secrets Done-when, end to end on both dialects, against the real hub (its embedded agent on
 * the real engine, adopted as a single-node Swarm): a canary secret is created, attached to a
 * 2-replica app as a file (at a chosen path, mode 0400, root's) and as an environment variable, rotated
 * with a rolling restart under a counting client (0 failed requests), rolled back (the container
 * sees the old version again), refused deletion while in use (409 naming the app), detached and
 * deleted; its Swarm secrets are pruned. The container sees the right value in env and file after
 * each step (read with `docker exec`, outside Capstan).
 *
 * Then the scan: every API answer, every page, the audit rows, the hub's log (its embedded agent
 * logs through it, at debug level) and every realtime WebSocket message hold neither the canary
 * nor its base64 form. (There are no builds yet: build logs arrive with the builds issue.)
 */
import assert from "node:assert/strict";
import { sql } from "kysely";
import { startTestHub } from "./support/hub.ts";
import { recordingLogger } from "./support/recording_log.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { TEST_POSTGRES_URL } from "./support/db.ts";
import { createDockerClient, type DockerClient } from "../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { cleanupApps } from "./support/apps.ts";
import { type CountingClient, execOutput, startCountingClient } from "./support/counting_client.ts";
import { LABELS, networkNames } from "../lib/apps/swarm_spec.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const SUITE = "secrets-canary";
const ignored = dockerTestsIgnored(SUITE);
const IN_CI = Deno.env.get("CI") === "true";

/** A busybox httpd that reads nothing secret into its page; healthy once the page exists. */
function web() {
  return {
    name: "web",
    image: TEST_IMAGE,
    replicas: 2,
    command: ["sh", "-c"],
    args: ["mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www"],
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    update: { parallelism: 1, delay_s: 0, order: "start-first", monitor_s: 2 },
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
  };
}

/** A fresh database for one dialect: SQLite in the data dir, or a PostgreSQL database of its own. */
async function database(dialect: "sqlite" | "postgres", dataDir: string) {
  if (dialect === "sqlite") return { url: `sqlite:${dataDir}/capstan.db`, drop: async () => {} };
  const name = `canary_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = openDatabase(TEST_POSTGRES_URL!);
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const u = new URL(TEST_POSTGRES_URL!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = openDatabase(TEST_POSTGRES_URL!);
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(a.db);
      } finally {
        await a.close();
      }
    },
  };
}

/** What every running task container of the app sees: env and both files. */
async function seen(docker: DockerClient, appId: string) {
  const containers = await docker.listContainers({
    filters: { label: [`${LABELS.app}=${appId}`], status: ["running"] },
  });
  return await Promise.all(containers.map(async (c) => {
    const out = await execOutput(docker, c.Id, [
      "sh",
      "-c",
      'printf "%s|" "$APP_SECRET"; cat /etc/app/key; printf "|"; stat -c %a:%u /etc/app/key',
    ]);
    return out.trim();
  }));
}

for (const dialect of ["sqlite", "postgres"] as const) {
  Deno.test({
    name:
      `[${dialect}] [docker] secrets Done-when: a canary injected as file and env, rotated with no dropped request, rolled back, in-use delete refused, deleted — and found nowhere Capstan writes`,
    ignore: ignored || (dialect === "postgres" && !TEST_POSTGRES_URL && !IN_CI),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const v1 = `canary-v1-${crypto.randomUUID()}`;
      const v2 = `canary-v2-${crypto.randomUUID()}`;
      const forms = [v1, v2, btoa(v1), btoa(v2)];
      const dataDir = await Deno.makeTempDir({ prefix: "capstan-canary-" });
      const db = await database(dialect, dataDir);
      const log = recordingLogger();
      const docker = createDockerClient({ timeoutMs: 60_000 });
      const answers: string[] = [];
      const wsMessages: string[] = [];
      let client: CountingClient | undefined;
      let orgId = "";
      const hub = await startTestHub(dataDir, {
        DATABASE_URL: db.url,
        CAPSTAN_LOCAL_AGENT: "1",
        CAPSTAN_LOG_LEVEL: "debug",
      }, { log });
      let ws: WebSocket | undefined;
      try {
        const s = hub.services;
        const user = await s.accounts.createUser(SYSTEM_CTX, {
          email: "ops@acme.io",
          name: "ops",
          password: "password-ops-1234",
        });
        await s.accounts.ensureMembership(SYSTEM_CTX, user.id, "acme", "owner");
        const org = (await s.orgs.bySlug("acme"))!;
        orgId = org.id;
        const token = (await s.tokens.create({
          userId: user.id,
          orgId: org.id,
          name: "canary",
          scope: "write",
          expiresAt: null,
        })).token;
        const { sessionId } = await s.accounts.signIn(
          SYSTEM_CTX,
          "ops@acme.io",
          "password-ops-1234",
        );
        const cookie = `capstan_session=${sessionId}`;
        const call = async (method: string, path: string, json?: unknown) => {
          const res = await fetch(`${hub.url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(json !== undefined ? { "content-type": "application/json" } : {}),
            },
            body: json === undefined ? undefined : JSON.stringify(json),
          });
          const text = await res.text();
          answers.push(text);
          return { status: res.status, body: text ? JSON.parse(text) : null };
        };
        const page = async (path: string) => {
          const res = await fetch(`${hub.url}${path}`, { headers: { cookie } });
          const html = await res.text();
          answers.push(html);
          assert.equal(res.status, 200, `${path}: ${res.status}`);
          return html;
        };

        // Every realtime message the organization's members could get about the app.
        ws = new WebSocket(hub.url.replace(/^http/, "ws") + "/api/v1/ws", {
          headers: { authorization: `Bearer ${token}` },
        } as unknown as string[]);
        await new Promise((resolve, reject) => {
          ws!.onopen = resolve;
          ws!.onerror = () => reject(new Error("websocket failed"));
        });
        ws.onmessage = (e) => void wsMessages.push(String(e.data));

        // The embedded agent attaches the local engine; the cluster adopts its swarm.
        const host = await eventually(
          async () => (await s.db.selectFrom("hosts").select("id").executeTakeFirst()) ?? undefined,
          "the embedded agent's host",
          60_000,
        );
        await eventually(() => Promise.resolve(s.agents.isOnline(host.id) || undefined), "agent");
        await s.cluster.create(SYSTEM_CTX, {
          hostId: host.id,
          advertiseAddr: "127.0.0.1",
          adopt: true,
        });

        // 1. Create the secret; it is listed without its value.
        const made = await call("POST", "/api/v1/orgs/acme/secrets", {
          name: "CANARY",
          description: "the canary",
          value: v1,
        });
        assert.equal(made.status, 201, JSON.stringify(made.body));

        // 2. Attach it as a file (default path, and a chosen one) and as an env var.
        const name = `canary-${crypto.randomUUID().slice(0, 6)}`;
        const spec = (secrets: unknown[]) => ({ services: [{ ...web(), secrets }] });
        const attached = [
          { secret: "CANARY", env: "APP_SECRET" },
          { secret: "CANARY", file: { target: "/etc/app/key" } },
        ];
        const bad = await call("POST", "/api/v1/orgs/acme/apps", {
          name: "nope",
          spec: spec([{ secret: "MISSING", file: {} }]),
        });
        assert.equal(bad.status, 400);
        assert.ok(bad.body.error.fields["spec.services.0.secrets.0.secret"]);
        const created = await call("POST", "/api/v1/orgs/acme/apps", {
          name,
          spec: spec(attached),
        });
        assert.equal(created.status, 202, JSON.stringify(created.body));
        const appId = created.body.app.id;
        const api = `/api/v1/orgs/acme/apps/${name}`;
        for (const topic of [`org:${org.id}:app.${appId}`, `org:${org.id}:audit`]) {
          ws.send(JSON.stringify({ type: "subscribe", topic }));
        }
        const settled = (n: number) =>
          eventually(
            async () => {
              const d = (await call("GET", `${api}/deployments/${n}`)).body;
              return ["running", "failed", "rolled_back"].includes(d.status) ? d : undefined;
            },
            `deployment #${n}`,
            180_000,
          );
        let d = await settled(1);
        assert.equal(d.status, "running", d.reason);
        assert.deepEqual(Object.keys(d.secrets), ["CANARY"]);
        assert.equal(d.secrets.CANARY.version, 1);
        const expectSeen = async (value: string, what: string) => {
          let last: string[] = [];
          const all = await eventually(
            async () => {
              const got = last = await seen(docker, appId);
              return got.length === 2 && got.every((g) => g === `${value}|${value}|400:0`)
                ? got
                : undefined;
            },
            what,
            60_000,
          ).catch((err) => {
            // What the tasks saw, with the values replaced by which version they were.
            const words = last.map((l) => l.replaceAll(v1, "<v1>").replaceAll(v2, "<v2>"));
            throw new Error(`${err.message}; the tasks saw ${JSON.stringify(words)}`);
          });
          assert.equal(all.length, 2);
        };
        await expectSeen(v1, "both tasks see version 1 in env and files");

        // 3. Rotate with a rolling restart while a client asks without pause.
        client = await startCountingClient(docker, {
          name: testName(SUITE, "client"),
          network: networkNames(org, { id: appId }).org,
          host: `web.${name}`,
          port: 80,
          labels: testLabels(SUITE),
        });
        await eventually(async () => (await client!.counts()).ok >= 5 || undefined, "answers");
        const rotated = await call("PUT", "/api/v1/orgs/acme/secrets/CANARY", {
          value: v2,
          rotation: "rolling",
        });
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        assert.equal(rotated.body.version, 2);
        d = await settled(2);
        assert.equal(d.status, "running", d.reason);
        assert.equal(d.trigger.kind, "secret");
        assert.equal(d.secrets.CANARY.version, 2);
        await expectSeen(v2, "both tasks see version 2");
        const counts = await client.counts();
        assert.equal(counts.bad, 0, `failed requests during the rotation: ${counts.failedAt}`);
        assert.ok(counts.ok > 5);
        const diff = (await call("GET", `${api}/deployments/2`)).body.diff;
        assert.deepEqual(diff.secrets, [{ secret: "CANARY", from: 1, to: 2 }]);

        // The trail: created, rotated, restarted (naming the app and its deployment), deployed.
        const trail = (await call("GET", "/api/v1/orgs/acme/secrets/CANARY/trail")).body.items;
        const restarted = trail.find((e: { kind: string }) => e.kind === "restarted");
        assert.ok(restarted, JSON.stringify(trail));
        assert.match(restarted.message, new RegExp(`${name} \\(deployment #2\\)`));
        assert.match(restarted.actor_name, /^ops@acme.io/);

        // The organization is told (the default "Secret rotated in an app" rule; the scan below
        // covers it), one alert per app and version.
        const told = await eventually(
          async () => {
            const items = (await call("GET", "/api/v1/orgs/acme/alerts")).body.items;
            return items.find((a: { title: string }) =>
              a.title === `App ${name}: secret CANARY rotated to version 2`
            );
          },
          "the rotation's alert",
          30_000,
        );
        assert.equal(told.value, 2);

        // 4. Roll back to deployment #1: its secret version comes back with it.
        const back = await call("POST", `${api}/rollback`, {});
        assert.equal(back.status, 202, JSON.stringify(back.body));
        d = await settled(3);
        assert.equal(d.status, "running", d.reason);
        assert.equal(d.secrets.CANARY.version, 1);
        await expectSeen(v1, "after the rollback both tasks see version 1");
        assert.deepEqual((await call("GET", `${api}/deployments/3`)).body.diff.secrets, [
          { secret: "CANARY", from: 2, to: 1 },
        ]);

        // The hub's key is rotated while it runs (`rotate-secret-key --generate`): every data key
        // is re-wrapped, the hub takes the new key file, and a restart still starts the app.
        const rotation = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "scripts/admin.ts", "rotate-secret-key", "--generate"],
          cwd: new URL("../", import.meta.url).pathname,
          env: { NO_COLOR: "1", CAPSTAN_DATA_DIR: dataDir, DATABASE_URL: db.url },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const rotationOut = new TextDecoder().decode(rotation.stdout) +
          new TextDecoder().decode(rotation.stderr);
        answers.push(rotationOut);
        assert.equal(rotation.code, 0, rotationOut);
        assert.match(rotationOut, /^secret_versions: 2 re-wrapped, 0 already current$/m);
        assert.equal((await call("POST", `${api}/restart`, {})).status, 202);
        d = await settled(4);
        assert.equal(d.status, "running", d.reason);
        await expectSeen(v1, "after the key rotation and a restart both tasks see version 1");

        // Capstan's own views of the task containers never show the value.
        const tasks = await docker.listContainers({
          filters: { label: [`${LABELS.app}=${appId}`], status: ["running"] },
        });
        const inspect = await call(
          "GET",
          `/api/v1/orgs/acme/hosts/${host.id}/containers/${tasks[0].Id}`,
        );
        assert.equal(inspect.status, 200);
        assert.ok(inspect.body.Config.Env.includes("APP_SECRET=…"), "the env value is masked");
        await call("GET", `/api/v1/orgs/acme/containers?q=${name}`);
        await call("GET", `${api}/status`);
        await call("GET", `${api}/events`);
        await call("GET", `${api}/deployments`);
        await call("GET", "/api/v1/orgs/acme/secrets");
        await call("GET", "/api/v1/orgs/acme/secrets/CANARY");
        await call("GET", "/api/v1/orgs/acme/audit?limit=200");
        await page(`/o/acme/apps/${name}`);
        for (const n of [1, 2, 3, 4]) await page(`/o/acme/apps/${name}/deployments/${n}`);
        await page(`/o/acme/apps/${name}/edit`);
        await page(`/o/acme/containers`);

        // 5. Delete while in use: refused, naming the app.
        const refused = await call("DELETE", "/api/v1/orgs/acme/secrets/CANARY");
        assert.equal(refused.status, 409);
        assert.match(refused.body.error.message, new RegExp(name));

        // Detached (a deploy without it), then deleted; its Swarm secrets go.
        const upd = await call("PATCH", api, { spec: spec([]) });
        assert.equal(upd.status, 200, JSON.stringify(upd.body));
        assert.equal((await call("POST", `${api}/deploy`, {})).status, 202);
        d = await settled(5);
        assert.equal(d.status, "running", d.reason);
        assert.equal((await call("DELETE", "/api/v1/orgs/acme/secrets/CANARY")).status, 204);
        await eventually(
          async () => {
            await s.apps.status(await s.apps.store.get(org.id, name)).catch(() => {});
            const { gw } = await s.cluster.manager();
            await gw.pruneSecrets(org.id, [], 0);
            const left = await docker.listSecrets({
              filters: { label: [`capstan.org=${org.id}`] },
            });
            return left.length === 0 || undefined;
          },
          "the Swarm secrets pruned",
          60_000,
        );
        assert.deepEqual((await call("GET", "/api/v1/orgs/acme/secrets")).body.items, []);

        // The scan: nowhere Capstan writes holds the value or its base64 form.
        const audit = await s.db.selectFrom("audit_log").selectAll().execute();
        const appEvents = await s.db.selectFrom("app_events").selectAll().execute();
        const deployments = await s.db.selectFrom("deployments").selectAll().execute();
        const places: [string, string][] = [
          ["API answers and pages", answers.join("\n")],
          ["audit rows", JSON.stringify(audit)],
          ["app events and deployments", JSON.stringify([appEvents, deployments])],
          ["hub and agent log", log.text()],
          ["WebSocket messages", wsMessages.join("\n")],
        ];
        assert.ok(wsMessages.length > 20, `few realtime messages: ${wsMessages.length}`);
        assert.ok(!wsMessages.some((m) => JSON.parse(m).type === "error"), wsMessages.join("\n"));
        assert.ok(audit.some((a) => a.action === "secret.used"), "use in a deploy is audited");
        for (const [where, text] of places) {
          for (const f of forms) {
            assert.equal(text.split(f).length - 1, 0, `the canary appears in the ${where}`);
          }
        }
        console.log(
          `secrets canary [${dialect}]: ${answers.length} answers/pages, ${audit.length} audit rows, ${log.lines.length} log lines, ${wsMessages.length} WebSocket messages scanned: 0 occurrences; rotation ${counts.ok} requests, ${counts.bad} failed`,
        );
      } finally {
        ws?.close();
        await client?.stop().catch(() => {});
        await hub.services.apps.idle().catch(() => {});
        if (orgId) await cleanupApps(docker, [orgId], SUITE).catch(() => {});
        await hub.stop();
        docker.close();
        await db.drop().catch(() => {});
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
  });
}
