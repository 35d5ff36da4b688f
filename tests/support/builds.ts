/**
 * What the builds tests share: site repositories built FROM the test busybox (a version on its
 * page, a broken install, a missing health file on demand), a GitHub push payload, and the
 * harness of the builds tests that go through the hub's API: an org with a live embedded
 * agent adopted as the cluster's single node, a loopback Git server behind a token, an app
 * whose services are built from Git, and waits for builds and deployments. `close` removes the
 * app's services, the images its builds made and the Git server.
 */
import assert from "node:assert/strict";
import type { DbHandle } from "../../lib/db/mod.ts";
import { createDockerClient, type DockerClient } from "../../lib/docker/client.ts";
import { eventually, TEST_IMAGE } from "../../lib/docker/testing.ts";
import { dockerFixture } from "./docker_api.ts";
import { cleanupApps } from "./apps.ts";
import { startGitHttpServer } from "./git_http_server.ts";

/** A site image from the test busybox whose page says `version`; a failing RUN when `broken`. */
export function siteFiles(version: string, opts: { broken?: boolean; sleep?: number } = {}) {
  return {
    Dockerfile: [
      `FROM ${TEST_IMAGE}`,
      ...(opts.sleep ? [`RUN echo sleeping && sleep ${opts.sleep}`] : []),
      ...(opts.broken ? [`RUN echo "compiler says: no ${version}" && exit 3`] : []),
      "COPY site /www",
      `CMD ["sh", "-c", "exec httpd -f -p 80 -h /www"]`,
      "",
    ].join("\n"),
    "site/index.html": `${version}\n`,
    ".dockerignore": ".git\n",
  };
}

/** One web service running the test image; built from Git once connected. */
export const WEB_SERVICE = {
  name: "web",
  image: TEST_IMAGE,
  replicas: 1,
  update: { parallelism: 1, delay_s: 0, order: "start-first", monitor_s: 1 },
  restart: { condition: "any", delay_s: 1 },
  stop_grace_s: 1,
};

/**
 * A self-contained Nix repository: `bb/busybox` (a copy of the machine's, to be committed
 * executable) and a default.nix whose only program says hello and then stays up (a service
 * that exits would never run). `token` makes the derivation new, so the shared store never
 * answers it from an earlier run. Nothing is fetched.
 */
export function nixFiles(token: string): Record<string, string | Uint8Array> {
  const script = `$BB mkdir -p $out/bin && printf '#!%s sh\\necho hello from nix # ${token}\\n` +
    `exec %s sleep 1000000\\n' $BB $BB > $out/bin/hello && $BB chmod 555 $out/bin/hello`;
  return {
    "bb/busybox": Deno.readFileSync("/bin/busybox"),
    "default.nix": `let bb = builtins.path { path = ./bb; name = "bb"; }; in derivation {
    name = "hello-${token.slice(0, 8)}";
    system = builtins.currentSystem;
    builder = "\${bb}/busybox";
    BB = "\${bb}/busybox";
    PATH = "/no-path";
    args = [ "sh" "-c" ${JSON.stringify(script)} ];
  }`,
  };
}

// deno-lint-ignore no-explicit-any
export type Answer = { status: number; body: any; text: string };

/** The builds fixture; `env` adds hub configuration (e.g. CAPSTAN_BUILD_BASE_IMAGES). */
export async function buildsFixture(
  h: DbHandle,
  suite: string,
  opts: { env?: Record<string, string> } = {},
) {
  const f = await dockerFixture(h, suite, undefined, opts.env);
  const docker = createDockerClient({ timeoutMs: 120_000 });
  const s = f.t.services;
  const token = `tok-${crypto.randomUUID()}`;
  const gitRoot = await Deno.makeTempDir({ prefix: "capstan-git-" });
  const git = startGitHttpServer({ root: gitRoot, token });
  const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
  /** Every answer's text, to prove a secret is in none. */
  const answers: string[] = [];

  async function call(
    who: { cookie?: string; token?: string },
    method: string,
    path: string,
    json?: unknown,
  ): Promise<Answer> {
    const res = await f.t.request(path, { method, ...who, json });
    const text = await res.text();
    answers.push(text);
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // a log is text
    }
    return { status: res.status, body, text };
  }
  const as = (cookie: string) => (method: string, path: string, json?: unknown) =>
    call({ cookie }, method, path, json);
  const member = as(f.users.member.cookie);

  const adopted = await as(root.cookie)("POST", "/api/v1/cluster", {
    host_id: f.hostId,
    advertise_addr: "127.0.0.1",
    adopt: true,
  });
  assert.equal(adopted.status, 201, adopted.text);
  s.buildRunner.start();

  /** Creates app `name` (no deployment yet) and answers its API base path. */
  async function createApp(name: string, services: unknown[] = [WEB_SERVICE]): Promise<string> {
    const r = await member("POST", "/api/v1/orgs/acme/apps", {
      name,
      deploy: false,
      spec: { services },
    });
    assert.equal(r.status, 201, r.text);
    return `/api/v1/orgs/acme/apps/${name}`;
  }

  /** Waits for build `n` of the app at `api` to end; answers it. */
  const ended = (api: string, n: number, ms = 240_000) =>
    eventually(
      async () => {
        const b = (await member("GET", `${api}/builds/${n}`)).body;
        return b.state === "queued" || b.state === "running" ? undefined : b;
      },
      `build #${n} to end`,
      ms,
    );

  /** Waits for build `n`'s deployment to end; answers it. */
  async function deployed(api: string, n: number) {
    const id = await eventually(
      async () => (await member("GET", `${api}/builds/${n}`)).body.deployment_id ?? undefined,
      `build #${n}'s deployment`,
      // A build that ends while the app's previous deployment rolls waits for it first.
      240_000,
    );
    return await eventually(
      async () => {
        const list = (await member("GET", `${api}/deployments?limit=20`)).body.items;
        const d = list.find((x: { id: string }) => x.id === id);
        return d && d.status !== "pending" && d.status !== "deploying" ? d : undefined;
      },
      `deployment ${id}`,
      240_000,
    );
  }

  /** The numbers of the app's builds, newest first. */
  const buildNumbers = async (api: string): Promise<number[]> =>
    (await member("GET", `${api}/builds?limit=200`)).body.items.map((b: { number: number }) =>
      b.number
    );

  async function close() {
    await s.buildRunner.stop();
    await s.apps.idle();
    try {
      await cleanupApps(docker, [f.org.id], suite).catch((e) => console.error(e));
      await removeBuiltImages(docker, f.org.id);
    } finally {
      await git.close();
      await Deno.remove(gitRoot, { recursive: true }).catch(() => {});
      await f.close();
      docker.close();
    }
  }

  return {
    f,
    s,
    docker,
    git,
    gitRoot,
    token,
    root,
    answers,
    call,
    as,
    member,
    createApp,
    ended,
    deployed,
    buildNumbers,
    close,
  };
}

/** A site image from the test busybox: its page says `version`; healthy when `healthy`. */
export function site(version: string, opts: { healthy?: boolean; broken?: boolean } = {}) {
  const healthy = opts.healthy ?? true;
  return {
    Dockerfile: [
      `FROM ${TEST_IMAGE}`,
      ...(opts.broken
        ? [
          `RUN echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/does-not-exist" && exit 1`,
        ]
        : []),
      "COPY site /www",
      // A version without the file never becomes healthy.
      ...(healthy ? [] : ["RUN rm /www/healthy"]),
      `CMD ["sh", "-c", "exec httpd -f -p 80 -h /www"]`,
      "",
    ].join("\n"),
    "site/index.html": `${version}\n`,
    "site/healthy": "yes\n",
    ".dockerignore": ".git\n",
  };
}

/** A GitHub push of `sha` to main, as its webhook sends it (the fields Capstan reads). */
export function githubPush(sha: string, message: string, cloneUrl: string) {
  return JSON.stringify({
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after: sha,
    created: false,
    deleted: false,
    forced: false,
    head_commit: {
      id: sha,
      message,
      timestamp: new Date().toISOString(),
      author: { name: "Test Author", email: "author@example.test" },
    },
    commits: [],
    repository: { clone_url: cloneUrl, html_url: cloneUrl.replace(/\.git$/, "") },
    pusher: { name: "author" },
  });
}

/** Removes the images an organization's builds made (tagged under the org's id, not a suite's). */
export async function removeBuiltImages(docker: DockerClient, orgId: string): Promise<void> {
  const reference = [`capstan-builds/${orgId}/*/*`];
  for (const i of await docker.listImages({ filters: { reference } })) {
    await docker.removeImage(i.Id, { force: true }).catch(() => {});
  }
}
