import assert from "node:assert/strict";
import type { DockerClient } from "../../lib/docker/client.ts";
import { dockerTestsIgnored, testLabels, testName, withDocker } from "../../lib/docker/testing.ts";
import { BuildFailure } from "../../lib/builds/failure.ts";
import { until } from "../../tests/support/process.ts";
import { buildNix, type NixBuildOptions } from "./nix.ts";

/**
 * Real Nix builds, fully offline: each fixture is a derivation whose builder is a copy of
 * /bin/busybox brought in with `builtins.path`, so nothing is fetched (DESIGN §6, nix-bin).
 */

const SUITE = "nix-build";
const ignore = dockerTestsIgnored(SUITE);

/**
 * A checkout holding `bb/busybox` and the given expression file. `token` makes each derivation
 * new, so the shared store never answers a test from an earlier run.
 */
async function fixture(file: "default.nix" | "flake.nix", expr: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-nix-" });
  await Deno.mkdir(`${dir}/bb`);
  await Deno.copyFile("/bin/busybox", `${dir}/bb/busybox`);
  await Deno.chmod(`${dir}/bb/busybox`, 0o755);
  await Deno.writeTextFile(`${dir}/${file}`, expr);
  return dir;
}

/** A derivation whose builder runs `script` with busybox's sh (`$BB` is busybox). */
function derivation(name: string, script: string, system = "builtins.currentSystem"): string {
  return `derivation {
    name = "${name}";
    system = ${system};
    builder = "\${bb}/busybox";
    BB = "\${bb}/busybox";
    PATH = "/no-path";
    args = [ "sh" "-c" ${JSON.stringify(script)} ];
  }`;
}

const BB = `bb = builtins.path { path = ./bb; name = "bb"; };`;

/** `$out/bin/hello`: a script run by the closure's own busybox, echoing its arguments. */
const HELLO = (token: string) =>
  `$BB mkdir -p $out/bin && printf '#!%s sh\\necho hello from nix "$@" # ${token}\\n' $BB > $out/bin/hello && $BB chmod 555 $out/bin/hello`;

function options(docker: DockerClient, dir: string, extra: Partial<NixBuildOptions> = {}) {
  const log: string[] = [];
  const opts: NixBuildOptions = {
    dir,
    tag: `capstan-test/nix-${crypto.randomUUID().slice(0, 8)}:latest`,
    docker,
    labels: testLabels(SUITE),
    signal: new AbortController().signal,
    timeoutMs: 180_000,
    onLog: (l) => log.push(l),
    ...extra,
  };
  return { opts, log };
}

/** Runs the image with `cmd` to its end and answers its output. */
async function runImage(docker: DockerClient, image: string, cmd: string[]): Promise<string> {
  const { id } = await docker.createContainer(testName(SUITE, "run"), {
    image,
    cmd,
    labels: testLabels(SUITE),
  });
  await docker.startContainer(id);
  await until(
    "the container to exit",
    async () => (await docker.inspectContainer(id)).State.Status === "exited",
    60_000,
  );
  const lines: string[] = [];
  const logs = await docker.containerLogs(id, { follow: false, tail: "all" });
  for await (const l of logs) lines.push(l.line);
  return lines.join("\n");
}

async function failure(p: Promise<unknown>): Promise<BuildFailure> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof BuildFailure, `expected a BuildFailure, got ${err}`);
  return err;
}

/**
 * A `[docker]` test with a fixture checkout: `expr` gets a fresh token (so the shared store never
 * answers from an earlier run) and the checkout is removed afterwards.
 */
function nixTest(
  name: string,
  file: "default.nix" | "flake.nix",
  expr: (token: string) => string,
  fn: (docker: DockerClient, dir: string, token: string) => Promise<void>,
) {
  Deno.test({
    name: `[docker] nix: ${name}`,
    ignore,
    sanitizeResources: false,
    fn: () =>
      withDocker(SUITE, async (docker) => {
        const token = crypto.randomUUID();
        const dir = await fixture(file, expr(token));
        try {
          await fn(docker, dir, token);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }),
  });
}

nixTest(
  "a default.nix builds offline, its closure is packed FROM scratch and the image runs its only program",
  "default.nix",
  (token) => `let ${BB} in ${derivation("hello", HELLO(token))}`,
  async (docker, dir) => {
    const { opts, log } = options(docker, dir);
    const built = await buildNix(opts);
    assert.match(built.storePath, /^\/nix\/store\/[a-z0-9]{32}-hello$/);
    // The script names busybox's store path, so Nix counts it in the runtime closure.
    assert.equal(built.closure.length, 2, built.closure.join(" "));
    assert.ok(built.closure.includes(built.storePath));
    assert.ok(built.closure.some((p) => p.endsWith("-bb")));
    const image = await docker.inspectImage(opts.tag);
    assert.equal(image.Id, built.imageId);
    assert.deepEqual(image.Config?.Entrypoint, [`${built.storePath}/bin/hello`]);
    assert.equal(image.Config?.Labels?.["capstan.nix.store_path"], built.storePath);
    assert.ok(log.some((l) => l.includes("Packing 2 store paths")), log.join("\n"));
    assert.equal(await runImage(docker, opts.tag, ["world"]), "hello from nix world");
  },
);

nixTest(
  "a flake.nix builds offline with nix build and runs",
  "flake.nix",
  (token) =>
    `{ outputs = { self }: let ${BB} in {
      packages.x86_64-linux.web = ${derivation("hello-flake", HELLO(token), `"x86_64-linux"`)};
    }; }`,
  async (docker, dir) => {
    const { opts } = options(docker, dir, { attr: "packages.x86_64-linux.web" });
    const built = await buildNix(opts);
    assert.match(built.storePath, /-hello-flake$/);
    assert.equal(await runImage(docker, opts.tag, ["flake"]), "hello from nix flake");
  },
);

nixTest(
  "a failing derivation is nix_failed with the log's last lines; several programs need an entrypoint",
  "default.nix",
  (token) =>
    `let ${BB} in {
      broken = ${derivation("broken", `echo "compiler says ${token}" >&2; exit 3`)};
      two = ${
      derivation(
        "two",
        `$BB mkdir -p $out/bin && $BB cp $BB $out/bin/echo && $BB cp $BB $out/bin/sh # ${token}`,
      )
    };
    }`,
  async (docker, dir, token) => {
    const broken = await failure(buildNix(options(docker, dir, { attr: "broken" }).opts));
    assert.equal(broken.failure, "nix_failed");
    assert.match(broken.message, new RegExp(`compiler says ${token}`));

    const two = await failure(buildNix(options(docker, dir, { attr: "two" }).opts));
    assert.equal(two.failure, "nix_failed");
    assert.match(two.message, /bin holds 2 programs \(echo, sh\); set the entrypoint/);

    // Told which one, it packs and runs it.
    const out = two.message.match(/^(\/nix\/store\/\S+)\/bin holds/)?.[1];
    assert.ok(out, two.message);
    const { opts } = options(docker, dir, { attr: "two", entrypoint: [`${out}/bin/echo`] });
    await buildNix(opts);
    assert.equal(await runImage(docker, opts.tag, ["told"]), "told");
  },
);

/** Whether a process whose command line holds `token` is still running. */
async function running(token: string): Promise<boolean> {
  for await (const p of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${p.name}/cmdline`).catch(() => "");
    if (cmd.includes(token)) return true;
  }
  return false;
}

Deno.test({
  name:
    "nix: a build past its time limit is stopped as timeout, a cancelled one as cancelled, and no builder is left running",
  sanitizeResources: false,
  fn: async () => {
    const token = crypto.randomUUID();
    const dir = await fixture(
      "default.nix",
      `let ${BB} in {
        slow = ${derivation("slow", `echo started; $BB sleep 600 # ${token}`)};
        slower = ${derivation("slower", `echo started; $BB sleep 601 # ${token}`)};
      }`,
    );
    // No engine is reached: the build never gets past Nix.
    const docker = { socketPath: "/nonexistent" } as DockerClient;
    try {
      const timedOut = { ...options(docker, dir, { attr: "slow" }) };
      const started = Date.now();
      const t = await failure(buildNix({ ...timedOut.opts, timeoutMs: 4_000 }));
      assert.equal(t.failure, "timeout");
      assert.ok(Date.now() - started < 60_000);
      await until("the timed-out builder to stop", async () => !await running(token), 30_000);

      const ac = new AbortController();
      const { opts, log } = options(docker, dir, { attr: "slower", signal: ac.signal });
      const p = buildNix(opts);
      await until("the builder to start", () => log.some((l) => l.includes("started")), 60_000);
      ac.abort();
      assert.equal((await failure(p)).failure, "cancelled");
      await until("the cancelled builder to stop", async () => !await running(token), 30_000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
