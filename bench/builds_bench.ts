/**
 * Builds from Git (issue 18):
 * - `webhook_ack_p50_ms` / `webhook_ack_p99_ms`: 200 signed GitHub pushes (GitHub's example push,
 *   each with its own delivery id) sent one after another to `POST /api/v1/hooks/{id}` of a running
 *   hub over a real loopback socket (1 MB body limit as served); the time from sending to having
 *   read the answer. Each push names the branch the app builds, so each takes the whole ack path:
 *   signature over the raw body, delivery recorded, `build.started` audited, build queued. No
 *   worker is connected, so the builds wait in the queue (the dispatcher runs as in production
 *   and finds no agent): the ack, not the build, is measured. `webhook_ack_bare_p99_ms`: a bare
 *   `Deno.serve` reading the same body and answering 202, asked alternately with the hub in the
 *   same run, so a reader can tell the machine's own tail from the hub's.
 * - `build_capstan_s`, `build_docker_cli_s`, `build_overhead_vs_docker_build`: a small Dockerfile
 *   app (FROM the test busybox, three COPYs, a RUN) built through the hub — API call → the
 *   worker's agent `build.run` → clone from a loopback Git server (token auth) → context tar →
 *   Engine `/build` → the build's row says succeeded — against `docker build` (the CLI, classic
 *   builder) of the same tree, in alternating order; medians of the measured rounds. Every build
 *   gets a commit of its own whose first COPY differs, so neither reuses a cached layer (the FROM
 *   image is local for both).
 */
import { ownerToken, startTestHub } from "../tests/support/hub.ts";
import { pushBody, signWebhook } from "../tests/support/webhook_signing.ts";
import { openTestDb } from "../tests/support/db.ts";
import { dockerFixture } from "../tests/support/docker_api.ts";
import { createRepo } from "../tests/support/git_repos.ts";
import { startGitHttpServer } from "../tests/support/git_http_server.ts";
import { cleanupApps } from "../tests/support/apps.ts";
import { TEST_IMAGE, testLabels } from "../lib/docker/testing.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { median, percentile } from "./stats.ts";

type Recorder = (name: string, value: number) => void;

const SUITE = "builds-bench";
const DELIVERIES = 200;
const WARMUP_DELIVERIES = 10;
const BUILD_ROUNDS = 5;

/** A JSON call over the hub's socket with a bearer token; fails unless it answers `want`. */
async function api(url: string, token: string, method: string, json: unknown, want: number) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(json),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== want) {
    throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(body)}`);
  }
  return body;
}

/** The webhook ack figures, on a hub of its own. */
export async function webhookAckBench(record: Recorder): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-bench-hooks-" });
  const hub = await startTestHub(dataDir);
  try {
    const { token } = await ownerToken(hub.services, "bench", "hooks@bench.io");
    const apps = `${hub.url}/api/v1/orgs/bench/apps`;
    await api(apps, token, "POST", {
      name: "shop",
      deploy: false,
      spec: { services: [{ name: "web", image: TEST_IMAGE }] },
    }, 201);
    // GitHub's published example push names refs/heads/master: the source builds that branch.
    const body = pushBody("github");
    const connected = await api(`${apps}/shop/services/web/source`, token, "PUT", {
      repo_url: "https://github.com/Codertocat/Hello-World.git",
      branch: "master",
    }, 200);
    const hookUrl = `${hub.url}${new URL(connected.webhook.url).pathname}`;
    const secret: string = connected.webhook_secret;

    // The baseline, asked alternately with the hub so both see the same moments of load: a bare
    // Deno.serve that reads the same body and answers 202 with a small JSON.
    const bare = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      await req.arrayBuffer();
      return Response.json({ outcome: "queued" }, { status: 202 });
    });
    const bareUrl = `http://127.0.0.1:${bare.addr.port}/api/v1/hooks/x`;
    const ours: number[] = [];
    const baseline: number[] = [];
    try {
      for (let i = 0; i < WARMUP_DELIVERIES + DELIVERIES; i++) {
        const headers = await signWebhook("github", body, secret);
        const t = performance.now();
        const res = await fetch(hookUrl, { method: "POST", headers, body });
        const answer = await res.json();
        const ms = performance.now() - t;
        if (res.status !== 202 || answer.outcome !== "queued") {
          throw new Error(`delivery ${i}: ${res.status} ${JSON.stringify(answer)}`);
        }
        const t2 = performance.now();
        await (await fetch(bareUrl, { method: "POST", headers, body })).json();
        const bareMs = performance.now() - t2;
        if (i < WARMUP_DELIVERIES) continue;
        ours.push(ms);
        baseline.push(bareMs);
      }
    } finally {
      await bare.shutdown();
    }
    console.log(`  (${DELIVERIES} pushes of ${body.length} bytes, each queued a build)`);
    record("webhook_ack_p50_ms", percentile(ours, 50));
    record("webhook_ack_p99_ms", percentile(ours, 99));
    record("webhook_ack_bare_p99_ms", percentile(baseline, 99));
  } finally {
    await hub.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/**
 * The app's tree for one build: `nonce` is the first file copied, so a build with a new nonce
 * rebuilds every layer. The image carries the suite's test labels, so the clean-up removes it.
 */
function appTree(nonce: string): Record<string, string> {
  const labels = Object.entries(testLabels(SUITE)).map(([k, v]) => `${k}=${v}`).join(" ");
  const lines = (n: number, what: string) =>
    Array.from({ length: n }, (_, i) => `${what} ${i} ${"x".repeat(60)}`).join("\n");
  return {
    Dockerfile: [
      `FROM ${TEST_IMAGE}`,
      "COPY build-id.txt /app/build-id.txt",
      `LABEL ${labels}`,
      "COPY site /www",
      "COPY bin/start.sh /app/start.sh",
      "RUN chmod +x /app/start.sh && mkdir -p /data && wc -c /www/* > /app/sizes.txt",
      `CMD ["/app/start.sh"]`,
      "",
    ].join("\n"),
    "build-id.txt": `${nonce}\n`,
    "site/index.html": `<!doctype html><title>shop</title>\n${lines(200, "<p>item")}\n`,
    "site/app.js": `${lines(800, "// line")}\n`,
    "site/style.css": `${lines(300, "/* rule")}\n`,
    "bin/start.sh": "#!/bin/sh\nexec httpd -f -p 80 -h /www\n",
    ".dockerignore": ".git\n",
  };
}

/** The build figures: Capstan's build through the hub against `docker build`, same run. */
export async function buildOverheadBench(record: Recorder): Promise<void> {
  const token = `tok-${crypto.randomUUID()}`;
  const h = await openTestDb("sqlite");
  const f = await dockerFixture(h, SUITE);
  const docker = createDockerClient({ timeoutMs: 120_000 });
  const gitRoot = await Deno.makeTempDir({ prefix: "capstan-bench-git-" });
  const git = startGitHttpServer({ root: gitRoot, token });
  const s = f.t.services;
  // A build's end as the runner publishes it on the build's topic (no polling delay).
  const ended = new Map<string, string>();
  const waiting = new Map<string, (state: string) => void>();
  // When the first log line of each stage reached the hub (log batches go every 100 ms).
  const marks = new Map<string, [string, number][]>();
  const stages: [string, RegExp][] = [
    ["clone", /^Cloning /],
    ["checked out", /^Checked out /],
    ["build", /^Step 1\//],
    ["image", /^Successfully built /],
  ];
  const unsubscribe = s.bus.subscribe((topic, data) => {
    const e = data as { kind?: string; build_id?: string; state?: string; lines?: string[] };
    if (!topic.startsWith(`org:${f.org.id}:build.`)) return;
    if (e.kind === "log" && e.build_id) {
      const list = marks.get(e.build_id) ?? [];
      for (const [name, re] of stages) {
        if (e.lines!.some((l) => re.test(l))) list.push([name, performance.now()]);
      }
      marks.set(e.build_id, list);
    }
    if (e.kind !== "state") return;
    if (e.state === "running" || !e.build_id || !e.state) return;
    ended.set(e.build_id, e.state);
    waiting.get(e.build_id)?.(e.state);
  });
  const call = async (method: string, path: string, json: unknown, want: number) => {
    const res = await f.t.request(path, { method, cookie: f.users.member.cookie, json });
    const body = await res.json().catch(() => null);
    if (res.status !== want) {
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
    }
    return body;
  };
  s.buildRunner.start();
  try {
    await f.adoptCluster();
    const repo = await createRepo(gitRoot, "shop", appTree("first"));
    const work = `${gitRoot}/shop.work`;
    const app = "/api/v1/orgs/acme/apps/buildshop";
    await call("POST", "/api/v1/orgs/acme/apps", {
      name: "buildshop",
      deploy: false,
      spec: { services: [{ name: "web", image: TEST_IMAGE }] },
    }, 201);
    await call("PUT", `${app}/services/web/source`, {
      repo_url: git.url("shop.git"),
      branch: "main",
      auth: "token",
      token,
    }, 200);

    /** One build through the hub of a fresh commit: seconds from the call to its end. */
    const capstan = async (nonce: string) => {
      const commit = await repo.commit(appTree(nonce), `build ${nonce}`);
      const t = performance.now();
      const b = await call("POST", `${app}/services/web/builds`, { commit, deploy: false }, 202);
      const { promise, resolve } = Promise.withResolvers<string>();
      waiting.set(b.id, resolve);
      if (ended.has(b.id)) resolve(ended.get(b.id)!);
      const timeout = setTimeout(() => resolve("timed out"), 300_000);
      const state = await promise;
      const seconds = (performance.now() - t) / 1000;
      clearTimeout(timeout);
      waiting.delete(b.id);
      if (state !== "succeeded") {
        const row = await call("GET", `${app}/builds/${b.number}`, undefined, 200);
        throw new Error(`build #${b.number} ${state}: ${row.failure} ${row.error}`);
      }
      const steps = (marks.get(b.id) ?? []).map(([name, at]) =>
        `${name} +${((at - t) / 1000).toFixed(2)}`
      );
      console.log(`  (capstan ${nonce}: ${steps.join(", ")}, end +${seconds.toFixed(2)} s)`);
      return seconds;
    };
    /** The same tree (a fresh commit too) built by the Docker CLI's classic builder. */
    const cli = async (nonce: string) => {
      await repo.commit(appTree(nonce), `build ${nonce}`);
      const t = performance.now();
      const out = await new Deno.Command("docker", {
        args: [
          "build",
          "--tag",
          `capstan-test/${SUITE}:${nonce}`,
          "--file",
          `${work}/Dockerfile`,
          work,
        ],
        env: { DOCKER_BUILDKIT: "0" },
        stdout: "null",
        stderr: "piped",
      }).output();
      const seconds = (performance.now() - t) / 1000;
      if (!out.success) throw new Error(`docker build: ${new TextDecoder().decode(out.stderr)}`);
      return seconds;
    };

    // One unmeasured round first (the first clone, the first build of the session).
    await capstan("warmup-capstan");
    await cli("warmup-cli");
    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < BUILD_ROUNDS; i++) {
      let a: number, c: number;
      if (i % 2 === 0) {
        a = await capstan(`r${i}-capstan`);
        c = await cli(`r${i}-cli`);
      } else {
        c = await cli(`r${i}-cli`);
        a = await capstan(`r${i}-capstan`);
      }
      ours.push(a);
      theirs.push(c);
      ratios.push(a / c);
      console.log(`  (round ${i + 1}: capstan ${a.toFixed(2)} s, docker build ${c.toFixed(2)} s)`);
    }
    record("build_capstan_s", median(ours));
    record("build_docker_cli_s", median(theirs));
    record("build_overhead_vs_docker_build", median(ratios));
  } finally {
    unsubscribe();
    await s.buildRunner.stop();
    await s.apps.idle();
    await cleanupApps(docker, [f.org.id], SUITE).catch((e) => console.error(e));
    await git.close();
    await Deno.remove(gitRoot, { recursive: true }).catch(() => {});
    // Removes the suite's labelled images: Capstan's and the CLI's.
    await f.close();
    docker.close();
    await h.close();
  }
}

if (import.meta.main) {
  const print: Recorder = (n, v) => console.log(`${n.padEnd(40)} ${Math.round(v * 100) / 100}`);
  const only = Deno.args[0];
  if (only !== "build") await webhookAckBench(print);
  if (only !== "webhook") await buildOverheadBench(print);
}
