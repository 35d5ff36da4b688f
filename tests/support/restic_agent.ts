/** Fixtures of the snapshot tests: the real engine, the real restic, a recording wrapper. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DockerClient } from "../../lib/docker/client.ts";
import { cleanupSuite, testLabels, testName, withDocker } from "../../lib/docker/testing.ts";
import type { SnapshotChunk } from "../../lib/protocol/snapshots.ts";
import { controlAgent } from "./control_agent.ts";

/** The repository password of the tests; asserted never to reach argv, a chunk or an error. */
export const PASSWORD = "rep0-Passw0rd-9f2c1e7a-never-shown";

/** Reads a stream op to its end. */
export async function drain(stream: AsyncIterable<unknown>): Promise<SnapshotChunk[]> {
  const chunks: SnapshotChunk[] = [];
  for await (const c of stream) chunks.push(c as SnapshotChunk);
  return chunks;
}

export function doneOf(chunks: SnapshotChunk[]): Extract<SnapshotChunk, { kind: "done" }> {
  const end = chunks.at(-1);
  assert.equal(end?.kind, "done", `ended with ${JSON.stringify(end)}`);
  return end as Extract<SnapshotChunk, { kind: "done" }>;
}

/** A restic wrapper that records every argv it was run with, then runs restic. */
async function recordingRestic(dir: string): Promise<{ bin: string; argv(): Promise<string> }> {
  const log = join(dir, "argv.log");
  const bin = join(dir, "restic-recording");
  await Deno.writeTextFile(
    bin,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec restic "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.chmod(bin, 0o755);
  return { bin, argv: () => Deno.readTextFile(log).catch(() => "") };
}

export interface Fixture {
  docker: DockerClient;
  root: string;
  agent: ReturnType<typeof controlAgent>;
  argv(): Promise<string>;
  /** A new labelled volume and its directory on the host. */
  volume(what: string): Promise<{ name: string; dir: string }>;
}

/**
 * Runs `body` against the real engine and restic (through a wrapper that records every argv),
 * then checks no private restic folder was left behind and the password never reached argv, and
 * cleans up the suite's docker objects and the temporary root.
 */
export async function withFixture(
  suite: string,
  body: (f: Fixture) => Promise<void>,
  restic: {
    /** The restic the agent runs, given the recording wrapper's path (default: the wrapper). */
    resticBin?: (recording: string) => string | Promise<string>;
  } = {},
): Promise<void> {
  await withDocker(suite, async (docker) => {
    const root = await Deno.makeTempDir({ prefix: "capstan-snapshots-test-" });
    const tmpRoot = join(root, "tmp");
    await Deno.mkdir(tmpRoot);
    const recording = await recordingRestic(root);
    const agent = controlAgent(docker, {
      restic: {
        resticBin: (await restic.resticBin?.(recording.bin)) ?? recording.bin,
        tmpRoot,
        stagingDir: join(root, "staging"),
        progressMs: 100,
      },
    });
    try {
      await body({
        docker,
        root,
        agent,
        argv: recording.argv,
        volume: async (what) => {
          const name = testName(suite, what);
          const v = await docker.createVolume({ name, labels: testLabels(suite) });
          return { name, dir: v.Mountpoint };
        },
      });
      const left = await Array.fromAsync(Deno.readDir(tmpRoot));
      assert.deepEqual(left.map((e) => e.name), [], "private restic folders left behind");
      const argv = await recording.argv();
      if (!restic.resticBin) {
        assert.ok(argv.length > 0, "restic was not run through the recording wrapper");
      }
      assert.ok(!argv.includes(PASSWORD), "the repository password reached argv");
    } finally {
      await cleanupSuite(docker, suite);
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  });
}
