/**
 * `buildImage()`: the query it sends, and against the real engine the streamed log, the image it
 * answers with, the classified failures and a cancel that makes the engine drop the build.
 * Contexts are made with the system's `tar` (argv) so this stays independent of the agent's
 * context writer.
 */
import assert from "node:assert/strict";
import { BuildFailure } from "../builds/failure.ts";
import { createDockerClient, type DockerClient, type FetchLike } from "./client.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "./testing.ts";

const SUITE = "docker-build";
const ignore = dockerTestsIgnored(SUITE);
const LABELS = testLabels(SUITE);

/** A tar of a folder holding `files`, as a stream. */
async function tarContext(files: Record<string, string>): Promise<ReadableStream<Uint8Array>> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-build-ctx-" });
  try {
    for (const [p, c] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${p}`, c);
    const out = await new Deno.Command("tar", {
      args: ["--numeric-owner", "-C", dir, "-cf", "-", "."],
      stdout: "piped",
    }).output();
    assert.ok(out.success);
    return new Blob([out.stdout]).stream();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const tag = () => `${testName(SUITE, "img")}:1`;

async function build(docker: DockerClient, dockerfile: string, signal?: AbortSignal) {
  const lines: string[] = [];
  const ctx = await tarContext({ Dockerfile: dockerfile, "hello.txt": "hello from the context\n" });
  const t = tag();
  const run = docker.buildImage(ctx, {
    tag: t,
    labels: LABELS,
    onLog: (l) => lines.push(l),
    signal,
  });
  return { lines, run, tag: t };
}

Deno.test("buildImage() sends the build query and the context as a tar body", async () => {
  let seen: { url: URL; init: RequestInit } | undefined;
  const fetch: FetchLike = async (url, init) => {
    const body = await new Response(init.body as ReadableStream).text();
    seen = { url: new URL(url), init: { ...init, body } };
    return new Response(
      [
        { stream: "Step 1/1 : FROM x\n" },
        { stream: " ---> abc\nSuccessfully built abc\n" },
        { aux: { ID: "sha256:" + "a".repeat(64) } },
      ].map((m) => JSON.stringify(m)).join("\n"),
    );
  };
  const docker = createDockerClient({ fetch });
  const lines: string[] = [];
  const r = await docker.buildImage(new Blob(["TARBYTES"]).stream(), {
    tag: "app/web:7",
    dockerfile: "ci/Dockerfile",
    buildArgs: { NODE_ENV: "production" },
    target: "runtime",
    labels: { "capstan.app": "web" },
    memoryBytes: 512 * 1024 * 1024,
    noCache: true,
    onLog: (l) => lines.push(l),
  });
  assert.equal(r.imageId, "sha256:" + "a".repeat(64));
  assert.deepEqual(lines, ["Step 1/1 : FROM x", " ---> abc", "Successfully built abc"]);
  const q = Object.fromEntries(seen!.url.searchParams);
  assert.equal(seen!.url.pathname, "/v1.41/build");
  assert.deepEqual(q, {
    t: "app/web:7",
    dockerfile: "ci/Dockerfile",
    buildargs: '{"NODE_ENV":"production"}',
    target: "runtime",
    labels: '{"capstan.app":"web"}',
    memory: String(512 * 1024 * 1024),
    nocache: "1",
    rm: "1",
    forcerm: "1",
  });
  assert.equal(seen!.init.method, "POST");
  assert.deepEqual(seen!.init.headers, { "content-type": "application/x-tar" });
  assert.equal(seen!.init.body, "TARBYTES");
  await assert.rejects(
    docker.buildImage(new Blob([]).stream(), { tag: "bad tag!", onLog: () => {} }),
    /image/,
  );
  docker.close();
});

Deno.test("buildImage() reports the context's own failure rather than the broken upload", async () => {
  const fetch: FetchLike = async (_url, init) => {
    await new Response(init.body as ReadableStream).arrayBuffer(); // fails with the context
    return new Response("");
  };
  const docker = createDockerClient({ fetch });
  let n = 0;
  const ctx = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (n++ < 2) ctl.enqueue(new Uint8Array(512));
      else ctl.error(new BuildFailure("checkout_too_large", "The build context is too large"));
    },
  });
  await assert.rejects(
    docker.buildImage(ctx, { tag: "app/web:1", onLog: () => {} }),
    (e) => e instanceof BuildFailure && e.failure === "checkout_too_large",
  );
  docker.close();
});

Deno.test({
  name: "[docker] buildImage() streams the log and answers the image id",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const { lines, run, tag } = await build(
        docker,
        `FROM ${TEST_IMAGE}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt && echo built-ok\n`,
      );
      const { imageId } = await run;
      assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
      assert.ok(lines.includes("built-ok"), lines.join("\n"));
      assert.ok(lines.includes("hello from the context"));
      assert.ok(lines.some((l) => /^Step 1\/\d+ : FROM /.test(l)));
      const image = await docker.inspectImage(tag);
      assert.equal(image.Id, imageId);
      assert.equal(image.Config?.Labels?.["capstan.test"], "1");
    }),
});

Deno.test({
  name: "[docker] buildImage() classifies a Dockerfile syntax error and a failed RUN",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const syntax = await build(docker, `FROM ${TEST_IMAGE}\nFROBNICATE everything\n`);
      await assert.rejects(syntax.run, (e) => {
        assert.ok(e instanceof BuildFailure, String(e));
        assert.equal(e.failure, "dockerfile_syntax");
        assert.match(e.message, /unknown instruction: FROBNICATE/i);
        return true;
      });
      const failed = await build(
        docker,
        `FROM ${TEST_IMAGE}\nRUN echo about-to-fail && exit 3\n`,
      );
      await assert.rejects(failed.run, (e) => {
        assert.ok(e instanceof BuildFailure, String(e));
        assert.equal(e.failure, "build_failed");
        assert.match(e.message, /returned a non-zero code: 3/);
        // The tail of the log comes with it: the step and what it printed.
        assert.match(
          e.message,
          /last lines of the log[\s\S]*RUN echo about-to-fail[\s\S]*about-to-fail/,
        );
        return true;
      });
      assert.ok(failed.lines.includes("about-to-fail"));
      const npm = await build(
        docker,
        `FROM ${TEST_IMAGE}\nRUN echo "npm ERR! 404 Not Found - does-not-exist" && exit 1\n`,
      );
      await assert.rejects(npm.run, (e) =>
        e instanceof BuildFailure && e.failure === "dependency_install");
    }),
});

Deno.test({
  name:
    "[docker] buildImage() abort closes the connection and the engine removes the step container",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const ctl = new AbortController();
      const { lines, run } = await build(
        docker,
        `FROM ${TEST_IMAGE}\nRUN echo step-started && sleep 300\n`,
        ctl.signal,
      );
      const settled = run.then(() => "resolved", (e) => e);
      const container = await eventually(
        () => {
          if (!lines.includes("step-started")) return Promise.resolve(undefined);
          const m = lines.map((l) => /Running in ([0-9a-f]{12})/.exec(l)).find((x) => x);
          return Promise.resolve(m?.[1]);
        },
        "the build step to start",
        120_000,
      );
      assert.equal((await docker.inspectContainer(container)).State.Running, true);
      const reason = new Error("cancelled by the test");
      ctl.abort(reason);
      assert.equal(await settled, reason);
      await eventually(
        async () => {
          try {
            await docker.inspectContainer(container);
            return undefined;
          } catch (err) {
            return (err as { status?: number }).status === 404 ? true : undefined;
          }
        },
        "the engine to remove the cancelled step's container",
        60_000,
      );
    }),
});
