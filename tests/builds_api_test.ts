/**
 * The builds API on both dialects, on the real engine through the embedded agent: what a source
 * may be (no credentials in URLs, local paths for platform admins only, sane branch and folder),
 * who may connect, build and cancel (not a viewer, not a read-only token), the access token in
 * no answer and no audit row; a deploy key over SSH with the host key pinned on the first clone;
 * cancel of a running and of a queued build (no build container left), retry of a commit; a
 * detected plan (a static site on the stand-in bases) and a Nix expression through the whole
 * pipeline; the log as text, kept whole when a build fails.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dbTest } from "./support/db.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { createRepo } from "./support/git_repos.ts";
import { startSshGitServer } from "./support/ssh_git_server.ts";
import { ensureBuildBases } from "./support/build_bases.ts";
import { buildsFixture, nixFiles, siteFiles, WEB_SERVICE } from "./support/builds.ts";

const SUITE = "builds-api";
const ignored = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] builds API: source rules, roles and read-only tokens, no token in any answer or audit row, SSH deploy key with the host key pinned, cancel and retry, a plan and a Nix build deployed, the whole log of a failure",
  async (h) => {
    if (ignored) return;
    // The detected plans' base images: local stand-ins (no registry is reachable).
    const local = createDockerClient({ timeoutMs: 300_000 });
    const bases = await ensureBuildBases(local).finally(() => local.close());
    const basesDir = await Deno.makeTempDir({ prefix: "capstan-bases-" });
    const basesFile = join(basesDir, "bases.json");
    await Deno.writeTextFile(basesFile, JSON.stringify(bases));
    const x = await buildsFixture(h, SUITE, { env: { CAPSTAN_BUILD_BASE_IMAGES: basesFile } });
    const { f, s, member } = x;
    const viewer = x.as(f.users.viewer.cookie);
    const root = x.as(x.root.cookie);
    const readToken = await f.t.token(f.users.member.id, "acme", "read");
    const reader = (m: string, p: string, j?: unknown) => x.call({ token: readToken }, m, p, j);
    let ssh: Awaited<ReturnType<typeof startSshGitServer>> | undefined;
    const services = ["web", "ssh", "site", "slow"].map((name) => ({ ...WEB_SERVICE, name }));
    try {
      const api = await x.createApp("apishop", services);
      const repo = await createRepo(x.gitRoot, "apishop", siteFiles("v0"));
      const url = x.git.url("apishop.git");
      const put = (who: typeof member, service: string, body: unknown) =>
        who("PUT", `${api}/services/${service}/source`, body);

      // 1. Source rules, answered by field.
      let r = await put(member, "web", {
        repo_url: "https://user:pw@git.example/x.git",
        branch: "main",
      });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields), ["repo_url"]);
      assert.ok(!r.text.includes(":pw@"), "the refusal repeats the password");
      r = await put(member, "web", { repo_url: url, branch: "bad..branch", subdir: "a/../../etc" });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields).sort(), ["branch", "subdir"]);
      r = await put(member, "web", { repo_url: `file://${repo.bare}` });
      assert.equal(r.status, 400, "a member may not build from the builder's disk");
      assert.deepEqual(Object.keys(r.body.error.fields), ["repo_url"]);
      r = await put(root, "web", { repo_url: `file://${repo.bare}` });
      assert.equal(r.status, 200, `a platform admin may: ${r.text}`);

      // 2. Who may: not a viewer, not a read-only token; the token is write-only.
      const connect = { repo_url: url, branch: "main", auth: "token", token: x.token };
      for (const who of [viewer, reader]) {
        assert.equal((await put(who, "web", connect)).status, 403);
      }
      r = await put(member, "web", { ...connect, auto_deploy: false });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.source.token_set, true);
      assert.equal(r.body.source.repo_url, url);
      for (const who of [viewer, reader]) {
        assert.equal((await who("POST", `${api}/services/web/builds`, {})).status, 403);
      }
      // A viewer still reads: the source says a token is set, never which.
      r = await viewer("GET", `${api}/sources`);
      assert.equal(r.status, 200);
      assert.equal(r.body.items[0].token_set, true);

      // 3. A failing commit: failed with the whole log; retried as a new build of that commit.
      const broken = await repo.commit(
        {
          Dockerfile: [
            `FROM ${TEST_IMAGE}`,
            `RUN for i in $(seq 1 1500); do echo "log line $i of the build"; done; exit 3`,
            "",
          ].join("\n"),
        },
        "broken",
      );
      r = await member("POST", `${api}/services/web/builds`, {});
      assert.equal(r.status, 202, r.text);
      let b = await x.ended(api, r.body.number);
      assert.equal(b.state, "failed", JSON.stringify(b));
      assert.equal(b.commit_sha, broken);
      assert.ok(b.hint);
      const log = await member("GET", `${api}/builds/${b.number}/log`);
      assert.equal(log.status, 200);
      assert.ok(!log.text.startsWith("{"), "the log is text");
      assert.match(log.text, /^Cloning /);
      for (const n of [1, 750, 1500]) {
        assert.ok(log.text.includes(`log line ${n} of the build\n`), `line ${n}`);
      }
      assert.match(log.text, /Build failed|exit|returned a non-zero code/);
      assert.equal((await viewer("POST", `${api}/builds/${b.number}/retry`)).status, 403);
      const fixed = await repo.commit(siteFiles("v1"), "fixed");
      r = await member("POST", `${api}/builds/${b.number}/retry`);
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.trigger, "retry");
      assert.equal(r.body.commit_sha, broken, "a retry builds the same commit, not the head");
      const retried = await x.ended(api, r.body.number);
      assert.equal(retried.state, "failed");
      assert.equal(retried.commit_sha, broken);
      r = await member("POST", `${api}/services/web/builds`, {});
      b = await x.ended(api, r.body.number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.commit_sha, fixed);

      // 4. Cancel: a running build (its RUN sleeps) and one queued behind it (one per worker).
      await createRepo(x.gitRoot, "apislow", siteFiles("slow", { sleep: 60 }));
      r = await put(member, "slow", { ...connect, repo_url: x.git.url("apislow.git") });
      assert.equal(r.status, 200, r.text);
      const running = (await member("POST", `${api}/services/slow/builds`, {})).body;
      const queued = (await member("POST", `${api}/services/web/builds`, {})).body;
      assert.equal(queued.state, "queued");
      const sleepers = async () =>
        (await x.docker.listContainers({ all: true })).filter((c) =>
          JSON.stringify(c).includes("sleeping && sleep 60")
        );
      await eventually(
        async () => (await sleepers()).length > 0 || undefined,
        "the slow build's RUN step to run",
        120_000,
      );
      for (const who of [viewer, reader]) {
        assert.equal((await who("POST", `${api}/builds/${running.number}/cancel`)).status, 403);
      }
      r = await member("GET", `${api}/builds/${queued.number}`);
      assert.equal(r.body.state, "queued");
      assert.equal(r.body.queue_position, 0);
      r = await member("POST", `${api}/builds/${queued.number}/cancel`);
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.state, "cancelled");
      const asked = Date.now();
      r = await member("POST", `${api}/builds/${running.number}/cancel`);
      assert.equal(r.status, 202, r.text);
      b = await x.ended(api, running.number, 30_000);
      assert.equal(b.state, "cancelled");
      assert.ok(Date.now() - asked < 30_000);
      // No container of the build is left (the engine's RUN step is stopped with it).
      await eventually(
        async () => (await sleepers()).length === 0 || undefined,
        "the cancelled build's container to go",
        30_000,
      );
      assert.equal((await member("POST", `${api}/builds/${running.number}/cancel`)).status, 409);
      assert.equal((await member("GET", `${api}/builds/${queued.number}`)).body.state, "cancelled");

      // 5. SSH: a deploy key, authorized on the Git host; the host key is pinned on first clone.
      await createRepo(x.gitRoot, "apissh", siteFiles("over ssh"));
      r = await put(member, "ssh", { repo_url: url, auth: "ssh", auto_deploy: false });
      assert.equal(r.status, 200, r.text);
      const publicKey: string = r.body.source.ssh_public_key;
      assert.match(publicKey, /^ssh-ed25519 AAAA\S+/);
      assert.match(r.body.source.ssh_fingerprint, /^SHA256:/);
      assert.equal(r.body.source.known_host_fingerprint, null);
      ssh = await startSshGitServer({ authorizedKey: publicKey, root: x.gitRoot });
      r = await put(member, "ssh", {
        repo_url: ssh.url("apissh.git"),
        auth: "ssh",
        auto_deploy: false,
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.source.ssh_public_key, publicKey, "the deploy key is kept");
      r = await member("POST", `${api}/services/ssh/builds`, {});
      b = await x.ended(api, r.body.number);
      assert.equal(b.state, "succeeded", `${JSON.stringify(b)}\n${ssh.log()}`);
      const sshSource = (await member("GET", `${api}/sources`)).body.items.find((
        i: { service: string },
      ) => i.service === "ssh");
      assert.equal(sshSource.known_host_fingerprint, ssh.hostKeyFingerprint);

      // 6. A detected plan: a static site, on the stand-in base.
      await createRepo(x.gitRoot, "apisite", { "index.html": "<h1>plan site</h1>\n" });
      r = await put(member, "site", { ...connect, repo_url: x.git.url("apisite.git") });
      assert.equal(r.status, 200, r.text);
      r = await member("POST", `${api}/services/site/builds`, { deploy: false });
      b = await x.ended(api, r.body.number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.builder, "plan:static");
      assert.equal(b.plan.plan.kind, "static");
      assert.ok(typeof b.plan.summary === "string" && b.plan.summary.length > 0);
      assert.ok(b.dockerfile.includes(`FROM ${bases.static}`), b.dockerfile);

      // 7. Nix, through the whole pipeline to a running deployment.
      const nixApi = await x.createApp("apinix");
      const nixRepo = await createRepo(x.gitRoot, "apinix", nixFiles(crypto.randomUUID()));
      await Deno.chmod(`${x.gitRoot}/apinix.work/bb/busybox`, 0o755);
      const nixCommit = await nixRepo.commit({}, "busybox is executable");
      r = await member("PUT", `${nixApi}/services/web/source`, {
        ...connect,
        repo_url: x.git.url("apinix.git"),
        auto_deploy: true,
      });
      assert.equal(r.status, 200, r.text);
      r = await member("POST", `${nixApi}/services/web/builds`, {});
      b = await x.ended(nixApi, r.body.number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.builder, "nix");
      assert.equal(b.commit_sha, nixCommit);
      const d = await x.deployed(nixApi, b.number);
      assert.equal(d.status, "running", d.reason);

      // 8. The token is in no answer and no audit row; builds and connections are audited.
      const rows = JSON.stringify(await s.audit.list({ orgId: f.org.id, limit: 1000 }));
      assert.ok(rows.includes("build_source.connected") && rows.includes("build.cancelled"));
      assert.ok(!rows.includes(x.token), "the token is in an audit row");
      for (const text of x.answers) assert.ok(!text.includes(x.token), "the token was answered");
    } finally {
      await ssh?.close();
      await x.close();
      await Deno.remove(basesDir, { recursive: true }).catch(() => {});
    }
  },
);
