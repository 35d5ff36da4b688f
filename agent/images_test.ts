import assert from "node:assert/strict";
import type { DockerClient } from "../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import { copyImage, pushImage } from "../lib/builds/distribute.ts";
import { parseOpParams } from "../lib/protocol/ops.ts";
import { base64 } from "../lib/util/ids.ts";
import { controlAgent } from "../tests/support/control_agent.ts";
import { startNsEngines } from "../tests/support/netns_engines.ts";
import { startRegistry } from "../tests/support/registry.ts";
import { until } from "../tests/support/process.ts";
import { rawEngine, readProgress } from "./engine_http.ts";
import { tarStream } from "./build/tar.ts";
import { imageOps } from "./images.ts";
import { toWireError } from "./control.ts";

const SUITE = "agent-images";
const ignore = dockerTestsIgnored(SUITE);

/** A new image of its own (FROM the test image plus a random file), labelled for the suite. */
async function buildTestImage(docker: DockerClient, tag: string): Promise<string> {
  const engine = rawEngine(docker.socketPath);
  try {
    const text = (s: string) => new TextEncoder().encode(s);
    const res = await engine.send({
      method: "POST",
      path: "/build",
      query: { t: tag, labels: JSON.stringify(testLabels(SUITE)) },
      headers: { "content-type": "application/x-tar" },
      body: ReadableStream.from(tarStream([
        {
          type: "bytes",
          name: "Dockerfile",
          mode: 0o644,
          data: text(`FROM ${TEST_IMAGE}\nCOPY token /token\n`),
        },
        { type: "bytes", name: "token", mode: 0o644, data: text(crypto.randomUUID()) },
      ])),
    });
    await readProgress(res, () => {});
  } finally {
    engine.close();
  }
  return (await docker.inspectImage(tag)).Id;
}

const gone = async (docker: DockerClient, ref: string) =>
  await docker.inspectImage(ref).then(() => false, (e) => e.status === 404);

Deno.test({
  name:
    "[docker] images: tag and push through the agent to a registry with htpasswd; a wrong password is refused and never echoed",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const password = `pw-${crypto.randomUUID()}`;
      const registry = await startRegistry({ htpasswd: { user: "builder", password } });
      const agent = controlAgent(docker);
      const name = testName(SUITE, "push");
      const ref = `capstan-test/${name}:v1`;
      const pushed = `${registry.host}/org/capstan-test/${name}:v1`;
      try {
        await buildTestImage(docker, ref);
        const lines: unknown[] = [];
        const wrong = await pushImage(agent, ref, {
          url: `${registry.url}/org`,
          username: "builder",
          password: `${password}-wrong`,
        }, (l) => lines.push(l)).catch((e) => e);
        assert.ok(wrong instanceof Error, "a wrong password must fail");
        assert.match(wrong.message, /unauthorized|authentication required|no basic auth/i);
        assert.ok(!wrong.message.includes(password));

        const result = await pushImage(agent, ref, {
          url: `${registry.url}/org`,
          username: "builder",
          password,
        }, (l) => lines.push(l));
        assert.equal(result.ref, pushed);
        assert.match(result.digest ?? "", /^sha256:[a-f0-9]{64}$/);
        assert.ok(
          !JSON.stringify(lines).includes(password),
          "progress must not carry the password",
        );
        // The registry has it under that digest (asked with the same credentials).
        const res = await fetch(`${registry.url}/v2/org/capstan-test/${name}/manifests/v1`, {
          method: "HEAD",
          headers: {
            authorization: `Basic ${btoa(`builder:${password}`)}`,
            accept: "application/vnd.docker.distribution.manifest.v2+json",
          },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("docker-content-digest"), result.digest);
      } finally {
        await docker.removeImage(pushed).catch(() => {});
        await registry.close();
      }
    }),
});

Deno.test({
  name:
    "[docker] images: pushed to an open registry, removed locally and pulled back through the agent, it has the same id",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const registry = await startRegistry();
      const agent = controlAgent(docker);
      const name = testName(SUITE, "pull");
      const ref = `capstan-test/${name}:v2`;
      const pushed = `${registry.host}/capstan-test/${name}:v2`;
      try {
        const id = await buildTestImage(docker, ref);
        assert.equal((await pushImage(agent, ref, { url: registry.host })).ref, pushed);
        await agent.call("image.remove", { ref });
        await agent.call("image.remove", { ref: pushed });
        assert.ok(await gone(docker, id));
        for await (const _ of agent.stream("image.pull", { ref: pushed })) { /* progress */ }
        assert.equal((await docker.inspectImage(pushed)).Id, id);
      } finally {
        await docker.removeImage(pushed, { force: true }).catch(() => {});
        await registry.close();
      }
    }),
});

Deno.test({
  name:
    "[docker] images: copied piece by piece from the main engine to a second engine through two agents, it keeps its id",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const ns = await startNsEngines(1);
      try {
        const other = ns.engines[0].docker;
        const ref = `capstan-test/${testName(SUITE, "copy")}:v3`;
        const id = await buildTestImage(docker, ref);
        assert.ok(await gone(other, ref));
        const progress: number[] = [];
        const copied = await copyImage(
          controlAgent(docker),
          controlAgent(other),
          ref,
          (p) => progress.push(p.bytes),
        );
        assert.equal(copied.imageId, id);
        assert.equal((await other.inspectImage(ref)).Id, id);
        // The test image is a few MiB: several 256 KiB pieces, the bytes counted as they went.
        assert.ok(progress.length > 2, `pieces: ${progress.length}`);
        assert.equal(progress.at(-1), copied.bytes);
      } finally {
        await ns.stop();
      }
    }),
});

Deno.test({
  name:
    "[docker] images: transfers are in order, bounded in number, size and idle time, and a non-archive is the engine's error",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const ops = imageOps(docker, { maxUploads: 1, maxUploadBytes: 1000, idleMs: 300 });
      const call = async (op: string, params: unknown) => {
        const parsed = parseOpParams(op, params);
        assert.ok(parsed?.success, `${op} params`);
        try {
          return await (ops.calls as Record<string, (p: unknown) => Promise<unknown>>)[op](
            parsed.data,
          );
        } catch (err) {
          return toWireError(err);
        }
      };
      const status = async (op: string, params: unknown) =>
        ((await call(op, params)) as { status?: number }).status ?? 200;
      /** Sends `n` zero bytes as piece `seq` of upload `id`; answers the call's status. */
      const piece = (id: string, seq: number, n: number, last = false) =>
        status("image.load_chunk", {
          upload_id: `up-${id.repeat(8)}`,
          seq,
          data: base64(new Uint8Array(n)),
          last,
        });
      try {
        // A piece for an upload that never started, then out of order.
        assert.equal(await piece("a", 3, 0), 404);
        assert.equal(await piece("a", 0, 10), 200);
        assert.deepEqual(
          await call("image.load_chunk", { upload_id: "up-aaaaaaaa", seq: 2, data: "" }),
          { status: 409, code: "out_of_order", message: "Expected piece 1, got 2" },
        );
        // One upload at a time here.
        assert.equal(await piece("b", 0, 10), 429);
        // Past the size cap the upload ends.
        assert.equal(await piece("a", 1, 2000), 413);
        assert.equal(await piece("a", 2, 10), 404);

        // Zeros are no tar: the engine says so when the archive ends.
        assert.equal(await piece("c", 0, 900), 200);
        assert.ok(await piece("c", 1, 0, true) >= 400);

        // A download left alone is dropped.
        const { download_id } = await call("image.save_open", { ref: TEST_IMAGE }) as {
          download_id: string;
        };
        const first = await call("image.save_read", { download_id, seq: 0 });
        assert.equal((first as { seq: number }).seq, 0);
        // Asking again for the same piece (a retry) answers it again, until the idle limit.
        assert.deepEqual(await call("image.save_read", { download_id, seq: 0 }), first);
        await until(
          "the idle download to be dropped",
          async () => await status("image.save_read", { download_id, seq: 0 }) === 404,
          10_000,
          50,
        );

        // Inputs the schema refuses before anything runs.
        for (
          const [op, params] of [
            ["image.load_chunk", { upload_id: "../x", seq: 0, data: "" }],
            ["image.load_chunk", { upload_id: "up-dddddddd", seq: 0, data: "not base64!" }],
            ["image.tag", { source: TEST_IMAGE, repo: "127.0.0.1:5000/x:tagged", tag: "v1" }],
            ["image.push", { ref: "busybox" }],
          ] as const
        ) {
          assert.equal(
            parseOpParams(op, params)?.success,
            false,
            `${op} ${JSON.stringify(params)}`,
          );
        }
      } finally {
        ops.close();
      }
    }),
});
