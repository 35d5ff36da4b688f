/**
 * The worker's `build.run` against the real engine, with no hub: a local bare repository is
 * cloned, the builder picked (a Dockerfile, a detected plan, a Nix expression) and the image
 * built. The chunk stream must be log lines, then `source`, then `plan`, ending in exactly one
 * `done` or `failed` with its class; the temporary directory is gone afterwards whatever happened.
 */
import assert from "node:assert/strict";
import type { BuildChunk } from "../../lib/protocol/build.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  withDocker,
} from "../../lib/docker/testing.ts";
import { createRepo, type RepoFiles } from "../../tests/support/git_repos.ts";
import { ensureBuildBases } from "../../tests/support/build_bases.ts";
import { nixFiles } from "../../tests/support/builds.ts";
import { runBuild } from "./run.ts";

const SUITE = "build-run";
const ignore = dockerTestsIgnored(SUITE);

/** Runs one build of `files` and answers its chunks, after checking their order and the cleanup. */
async function build(
  docker: DockerClient,
  files: RepoFiles,
  extra: Record<string, unknown> = {},
  signal = new AbortController().signal,
  executable: string[] = [],
): Promise<{ chunks: BuildChunk[]; tag: string; commit: string }> {
  const root = await Deno.makeTempDir({ prefix: "capstan-run-test-" });
  const tmpRoot = await Deno.makeTempDir({ prefix: "capstan-run-tmp-" });
  try {
    const repo = await createRepo(root, "app", files);
    // Git keeps the executable bit of the work tree's files (createRepo writes 0644).
    for (const f of executable) await Deno.chmod(`${root}/app.work/${f}`, 0o755);
    const commit = await repo.commit({ "NOTES.md": "second\n" }, "the commit built");
    const tag = `capstan-test/build-run-${crypto.randomUUID().slice(0, 8)}:b1`;
    const chunks: BuildChunk[] = [];
    await runBuild(
      docker,
      {
        build_id: `b-${crypto.randomUUID()}`,
        source: { url: repo.bare, branch: "main" },
        tag,
        labels: testLabels(SUITE),
        limits: { timeout_s: 300, max_checkout_bytes: 50_000_000 },
        ...extra,
      },
      (c) => chunks.push(c),
      signal,
      { tmpRoot },
    );
    // The order: logs throughout, the source once cloned, the plan once picked, one end.
    const kinds = chunks.map((c) => c.kind).filter((k) => k !== "log");
    const end = kinds.at(-1);
    assert.ok(end === "done" || end === "failed", kinds.join(","));
    assert.equal(kinds.filter((k) => k === "done" || k === "failed").length, 1, kinds.join(","));
    assert.equal(chunks.at(-1)!.kind === "log" ? "log" : end, end, "nothing after the end");
    assert.equal(chunks[0].kind, "log", "the stream starts with a log line");
    const source = kinds.indexOf("source");
    const plan = kinds.indexOf("plan");
    if (source >= 0 && plan >= 0) assert.ok(source < plan, kinds.join(","));
    // The checkout (and any credential file) is gone.
    assert.deepEqual([...Deno.readDirSync(tmpRoot)], [], "the build's temporary directory is left");
    return { chunks, tag, commit };
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(tmpRoot, { recursive: true }).catch(() => {});
  }
}

const logText = (chunks: BuildChunk[]) =>
  chunks.flatMap((c) => c.kind === "log" ? c.lines : []).join("\n");
const only = <K extends BuildChunk["kind"]>(chunks: BuildChunk[], kind: K) => {
  const found = chunks.filter((c) => c.kind === kind);
  assert.equal(found.length, 1, `one ${kind} chunk`);
  return found[0] as Extract<BuildChunk, { kind: K }>;
};

function dockerTest(name: string, fn: (docker: DockerClient) => Promise<void>) {
  Deno.test({
    name: `[docker] build.run: ${name}`,
    ignore,
    sanitizeResources: false,
    fn: () => withDocker(SUITE, fn),
  });
}

dockerTest(
  "a Dockerfile build streams log, source, plan, done and tags the image",
  async (docker) => {
    const { chunks, tag, commit } = await build(docker, {
      Dockerfile: `FROM ${TEST_IMAGE}\nCOPY page.txt /page.txt\nRUN echo built-step\n`,
      "page.txt": "hello\n",
    });
    const kinds = chunks.map((c) => c.kind).filter((k) => k !== "log");
    assert.deepEqual(kinds, ["source", "plan", "done"], logText(chunks));
    const source = only(chunks, "source");
    assert.equal(source.commit, commit);
    assert.equal(source.message.trim(), "the commit built");
    assert.equal(source.author, "Test Author <author@example.test>");
    assert.equal(only(chunks, "plan").builder, "dockerfile");
    const done = only(chunks, "done");
    const image = await docker.inspectImage(tag);
    assert.equal(image.Id, done.image_id);
    assert.ok(done.size_bytes > 0);
    assert.equal(image.Config?.Labels?.["capstan.test"], "1");
    assert.match(logText(chunks), /built-step/);
  },
);

dockerTest(
  "a detected plan (a static site) records the plan and its generated Dockerfile",
  async (docker) => {
    const bases = await ensureBuildBases(docker);
    const { chunks, tag } = await build(docker, {
      "index.html": "<h1>plan site</h1>\n",
    }, { base_images: bases });
    const kinds = chunks.map((c) => c.kind).filter((k) => k !== "log");
    assert.deepEqual(kinds, ["source", "plan", "done"], logText(chunks));
    const plan = only(chunks, "plan");
    assert.equal(plan.builder, "plan:static");
    assert.ok(plan.summary && plan.summary.length > 0);
    assert.match(
      plan.dockerfile ?? "",
      new RegExp(`FROM ${bases.static.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`),
    );
    assert.equal((plan.plan as { kind: string }).kind, "static");
    assert.equal((await docker.inspectImage(tag)).Id, only(chunks, "done").image_id);
  },
);

dockerTest("a Nix expression builds offline into a labelled image", async (docker) => {
  const token = crypto.randomUUID();
  const { chunks, tag } = await build(docker, nixFiles(token), {}, undefined, ["bb/busybox"]);
  const kinds = chunks.map((c) => c.kind).filter((k) => k !== "log");
  assert.deepEqual(kinds, ["source", "plan", "done"], logText(chunks));
  assert.equal(only(chunks, "plan").builder, "nix");
  const image = await docker.inspectImage(tag);
  assert.equal(image.Id, only(chunks, "done").image_id);
  // The build's labels reach a Nix image as they do a Dockerfile's (so it is found and cleaned).
  assert.equal(image.Config?.Labels?.["capstan.test"], "1");
});

dockerTest("a failing build ends failed with its class and the whole log", async (docker) => {
  const { chunks } = await build(docker, {
    Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo "step one ran" && echo "it broke here" && exit 7\n`,
  });
  const kinds = chunks.map((c) => c.kind).filter((k) => k !== "log");
  assert.deepEqual(kinds, ["source", "plan", "failed"]);
  const failed = only(chunks, "failed");
  assert.equal(failed.failure, "build_failed");
  assert.ok(failed.message.length > 0);
  const log = logText(chunks);
  assert.match(log, /^Cloning /);
  assert.match(log, /it broke here/);
  assert.match(log, /Build failed: /);
});

dockerTest(
  "a repository with nothing to build fails as no_build_plan; a missing branch as clone_failed",
  async (docker) => {
    let { chunks } = await build(docker, { "README.md": "words\n" });
    assert.deepEqual(chunks.map((c) => c.kind).filter((k) => k !== "log"), ["source", "failed"]);
    assert.equal(only(chunks, "failed").failure, "no_build_plan");
    ({ chunks } = await build(docker, { Dockerfile: `FROM ${TEST_IMAGE}\n` }, {
      source: { url: "/nonexistent/repo.git", branch: "main" },
    }));
    assert.deepEqual(chunks.map((c) => c.kind).filter((k) => k !== "log"), ["failed"]);
    assert.equal(only(chunks, "failed").failure, "clone_failed");
  },
);

dockerTest(
  "a cancelled build ends failed as cancelled and leaves no build container",
  async (docker) => {
    const ac = new AbortController();
    const marker = crypto.randomUUID();
    const p = build(
      docker,
      {
        Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo ${marker} && sleep 60\n`,
      },
      {},
      ac.signal,
    );
    const started = Date.now();
    // Cancel once the RUN step's container runs.
    const running = async () =>
      (await docker.listContainers({ all: true })).filter((c) =>
        JSON.stringify(c).includes(marker)
      );
    while ((await running()).length === 0) {
      assert.ok(Date.now() - started < 120_000, "the RUN step never started");
      await new Promise((r) => setTimeout(r, 200));
    }
    ac.abort();
    const { chunks } = await p;
    assert.equal(only(chunks, "failed").failure, "cancelled");
    const deadline = Date.now() + 30_000;
    while ((await running()).length > 0) {
      assert.ok(Date.now() < deadline, "the build's container is left after cancel");
      await new Promise((r) => setTimeout(r, 200));
    }
  },
);
