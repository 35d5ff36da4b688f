/**
 * End to end per project kind: a fixture repository (testdata/<kind>) without a Dockerfile gets a
 * plan, a generated Dockerfile on the stand-in base images (tests/support/build_bases.ts: no
 * registry is reachable), a context tar, an engine build through the client's `buildImage`, and a
 * container of the image that answers HTTP 200 on its port. Also a failing dependency install and
 * a project without a start command.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BuildFailure } from "../../lib/builds/failure.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  eventually,
  testLabels,
  testName,
  withDocker,
} from "../../lib/docker/testing.ts";
import { ensureBuildBases } from "../../tests/support/build_bases.ts";
import { contextTar } from "./context.ts";
import { type BuildPlan, detectPlan, PLAN_CONTEXT_IGNORE, planDockerfile } from "./plan.ts";

const SUITE = "builders";
const ignore = dockerTestsIgnored(SUITE);
const LABELS = testLabels(SUITE);
const TESTDATA = fileURLToPath(new URL("./testdata/", import.meta.url));
const DOCKERFILE = "Dockerfile.capstan";

/** What the orchestrator does for a repository without a Dockerfile, up to the image. */
async function buildFromPlan(docker: DockerClient, dir: string, log: string[] = []) {
  const plan = await detectPlan(dir);
  assert.ok(plan, `a plan for ${dir}`);
  const dockerfile = planDockerfile(plan, await ensureBuildBases(docker));
  const { imageId } = await docker.buildImage(
    contextTar(dir, {
      dockerfile: DOCKERFILE,
      maxBytes: 50_000_000,
      extraFiles: { [DOCKERFILE]: dockerfile },
      ignore: PLAN_CONTEXT_IGNORE,
    }),
    {
      tag: `${testName(SUITE, plan.kind)}:1`,
      dockerfile: DOCKERFILE,
      labels: LABELS,
      onLog: (l) => log.push(l),
    },
  );
  return { plan, imageId, log };
}

/** Runs the image publishing its port on loopback and waits for HTTP 200; answers the body. */
async function serve(docker: DockerClient, imageId: string, plan: BuildPlan): Promise<string> {
  const { id } = await docker.createContainer(testName(SUITE, plan.kind), {
    image: imageId,
    labels: LABELS,
    ports: [{ containerPort: plan.port, hostPort: 0, hostIp: "127.0.0.1" }],
  });
  await docker.startContainer(id);
  const c = await docker.inspectContainer(id);
  const port = Number(c.NetworkSettings.Ports?.[`${plan.port}/tcp`]?.[0]?.HostPort);
  assert.ok(port > 0, "a host port was published");
  return await eventually(
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
      const body = await r.text();
      return r.status === 200 ? body : undefined;
    },
    `HTTP 200 from the ${plan.kind} app`,
    60_000,
  );
}

const KINDS: [string, string, RegExp][] = [
  [
    "node",
    "npm ci → npm run build → npm start",
    /stand-in node ran: server\.js[\s\S]*package: fixture-node-app[\s\S]*built: dist\/app\.txt: bundle-ok/,
  ],
  ["python", "pip install -r requirements.txt → python app.py", /stand-in python ran: app\.py/],
  [
    "go",
    "go build in a build stage, the binary in the runtime",
    /stand-in go binary of module example\.com\/fixture-go-app/,
  ],
  ["static", "public/ served by the static base", /fixture-static-site/],
];

for (const [kind, what, page] of KINDS) {
  Deno.test({
    name: `[docker] builds the ${kind} fixture without a Dockerfile (${what}) and serves HTTP 200`,
    ignore,
    fn: () =>
      withDocker(SUITE, async (docker) => {
        const { plan, imageId, log } = await buildFromPlan(docker, `${TESTDATA}${kind}`);
        assert.equal(plan.kind, kind);
        assert.ok(
          log.some((l) => /^Step 1\/\d+ : FROM capstan-buildbase\//.test(l)),
          log.join("\n"),
        );
        const body = await serve(docker, imageId, plan);
        assert.match(body, page);
        if (kind === "node") {
          // .dockerignore kept the log out of the image; the plan's own ignores kept .git out.
          assert.ok(!log.some((l) => l.includes("notes.log")));
        }
      }),
  });
}

/** A copy of a fixture with some files replaced, removed after `fn`. */
async function withFixture(
  kind: string,
  files: Record<string, string | null>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: `capstan-fixture-${kind}-` });
  try {
    for await (const e of Deno.readDir(`${TESTDATA}${kind}`)) {
      if (e.isFile) await Deno.copyFile(`${TESTDATA}${kind}/${e.name}`, `${dir}/${e.name}`);
    }
    for (const [name, content] of Object.entries(files)) {
      if (content === null) await Deno.remove(`${dir}/${name}`);
      else await Deno.writeTextFile(`${dir}/${name}`, content);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "[docker] a dependency that does not exist fails the build as dependency_install",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const lock = JSON.stringify({
        name: "fixture-node-app",
        lockfileVersion: 3,
        packages: { "node_modules/does-not-exist": { version: "1.0.0" } },
        dependencies: { "does-not-exist": "1.0.0" },
      });
      await withFixture("node", { "package-lock.json": lock }, async (dir) => {
        await assert.rejects(buildFromPlan(docker, dir), (e) => {
          assert.ok(e instanceof BuildFailure, String(e));
          assert.equal(e.failure, "dependency_install");
          assert.match(e.message, /npm ERR! 404/);
          return true;
        });
      });
      await withFixture("python", { "requirements.txt": "does-not-exist==1.0\n" }, async (dir) => {
        await assert.rejects(
          buildFromPlan(docker, dir),
          (e) => e instanceof BuildFailure && e.failure === "dependency_install",
        );
      });
    }),
});

Deno.test({
  name:
    "[docker] a Node project without a start script fails as missing_start_script before building",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const pkg = JSON.stringify({ name: "no-start", scripts: { build: "true" } });
      await withFixture("node", { "package.json": pkg }, async (dir) => {
        const log: string[] = [];
        await assert.rejects(
          buildFromPlan(docker, dir, log),
          (e) => e instanceof BuildFailure && e.failure === "missing_start_script",
        );
        assert.deepEqual(log, []);
      });
    }),
});
