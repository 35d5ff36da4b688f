import assert from "node:assert/strict";
import { BuildFailure } from "../../lib/builds/failure.ts";
import {
  baseImagesSchema,
  type BuildPlan,
  DEFAULT_BASE_IMAGES,
  detectPlan,
  planDockerfile,
  planSummary,
} from "./plan.ts";

/** A temporary checkout holding `files`, removed after `fn`. */
async function withRepo(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-plan-" });
  try {
    for (const [path, content] of Object.entries(files)) {
      const full = `${dir}/${path}`;
      await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(full, content);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const pkg = (scripts: Record<string, string>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: "app", scripts, ...extra });

const DETECTION: [string, Record<string, string>, Partial<BuildPlan> | undefined][] = [
  ["node with package-lock", {
    "package.json": pkg({ build: "vite build", start: "node dist/server.js" }),
    "package-lock.json": "{}",
  }, {
    kind: "node",
    install: ["npm", "ci"],
    installFiles: ["package.json", "package-lock.json"],
    build: ["npm", "run", "build"],
    start: ["npm", "start"],
    port: 3000,
    evidence: ["package.json", "package-lock.json"],
  }],
  ["node with yarn.lock and main", {
    "package.json": pkg({}, { main: "index.js" }),
    "yarn.lock": "",
  }, {
    kind: "node",
    install: ["yarn", "install", "--frozen-lockfile"],
    build: undefined,
    start: ["node", "index.js"],
    evidence: ["package.json", "yarn.lock"],
  }],
  ["node with pnpm", {
    "package.json": pkg({ start: "x" }),
    "pnpm-lock.yaml": "",
  }, {
    install: ["pnpm", "install", "--frozen-lockfile"],
    evidence: ["package.json", "pnpm-lock.yaml"],
  }],
  ["node without a lock file or a start", { "package.json": pkg({ test: "x" }) }, {
    kind: "node",
    install: ["npm", "install"],
    installFiles: ["package.json"],
    start: undefined,
    evidence: ["package.json"],
  }],
  ["python with requirements and a Procfile", {
    "requirements.txt": "flask\n",
    "pyproject.toml": "",
    "Procfile": "release: python migrate.py\nweb: gunicorn app:app --workers 2\n",
  }, {
    kind: "python",
    install: ["pip", "install", "-r", "requirements.txt"],
    installFiles: ["requirements.txt"],
    start: ["gunicorn", "app:app", "--workers", "2"],
    port: 8000,
    evidence: ["requirements.txt", "Procfile"],
  }],
  ["python Procfile with shell syntax runs through sh -c", {
    "requirements.txt": "",
    "Procfile": "web: gunicorn app:app --bind 0.0.0.0:$PORT\n",
  }, { start: ["/bin/sh", "-c", "gunicorn app:app --bind 0.0.0.0:$PORT"] }],
  ["python pyproject with main.py", { "pyproject.toml": "", "main.py": "", "app.py": "" }, {
    install: ["pip", "install", "."],
    installFiles: undefined,
    start: ["python", "main.py"],
    evidence: ["pyproject.toml", "main.py"],
  }],
  ["python django", { "requirements.txt": "django\n", "manage.py": "" }, {
    start: ["python", "manage.py", "runserver", "0.0.0.0:8000"],
    evidence: ["requirements.txt", "manage.py"],
  }],
  ["python without a start", { "requirements.txt": "" }, { kind: "python", start: undefined }],
  ["go", { "go.mod": "module x\n", "go.sum": "", "main.go": "" }, {
    kind: "go",
    install: ["go", "mod", "download"],
    installFiles: ["go.mod", "go.sum"],
    build: ["go", "build", "-o", "/app/server", "."],
    start: ["/app/server"],
    port: 8080,
    evidence: ["go.mod", "go.sum"],
  }],
  ["static at the root", { "index.html": "<p>hi" }, {
    kind: "static",
    root: ".",
    port: 80,
    evidence: ["index.html"],
  }],
  ["static in dist", { "dist/index.html": "", "README.md": "" }, {
    root: "dist",
    evidence: ["dist/index.html"],
  }],
  [
    "node wins over a static index.html",
    { "package.json": pkg({ start: "x" }), "index.html": "" },
    {
      kind: "node",
    },
  ],
  ["nothing known", { "README.md": "", "src/index.html": "", "public/other.html": "" }, undefined],
];

for (const [name, files, want] of DETECTION) {
  Deno.test(`detectPlan() ${name}`, () =>
    withRepo(files, async (dir) => {
      const plan = await detectPlan(dir);
      if (!want) return assert.equal(plan, undefined);
      assert.ok(plan);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(plan[k as keyof BuildPlan], v, `${name}: ${k}`);
      }
    }));
}

Deno.test("detectPlan() refuses a package.json that does not parse", () =>
  withRepo({ "package.json": "{ nope" }, async (dir) => {
    await assert.rejects(
      detectPlan(dir),
      (e) => e instanceof BuildFailure && /package\.json/.test(e.message),
    );
  }));

const bases = { ...DEFAULT_BASE_IMAGES };

/** The RUN/CMD/COPY lines of a Dockerfile must be exec-form JSON arrays. */
function assertExecForm(dockerfile: string): void {
  for (const line of dockerfile.split("\n")) {
    const m = /^(RUN|CMD|ENTRYPOINT|COPY(?: --from=\w+)?) (.*)$/.exec(line);
    if (!m) continue;
    const argv = JSON.parse(m[2]);
    assert.ok(Array.isArray(argv) && argv.every((a) => typeof a === "string"), line);
  }
}

Deno.test("planDockerfile() node: lock files first for the cached install, then build, NODE_ENV after", () => {
  const df = planDockerfile({
    kind: "node",
    install: ["npm", "ci"],
    installFiles: ["package.json", "package-lock.json"],
    build: ["npm", "run", "build"],
    start: ["npm", "start"],
    port: 3000,
    evidence: ["package.json", "package-lock.json"],
  }, bases);
  assertExecForm(df);
  assert.deepEqual(df.split("\n").filter((l) => l && !l.startsWith("#")), [
    "FROM node:22-alpine",
    "WORKDIR /app",
    'COPY ["package.json","package-lock.json","./"]',
    'RUN ["npm","ci"]',
    'COPY [".","."]',
    'RUN ["npm","run","build"]',
    "ENV NODE_ENV=production",
    "ENV PORT=3000",
    "EXPOSE 3000",
    'CMD ["npm","start"]',
  ]);
});

Deno.test("planDockerfile() pnpm enables corepack; pyproject installs after the copy", () => {
  const pnpm = planDockerfile({
    kind: "node",
    install: ["pnpm", "install", "--frozen-lockfile"],
    installFiles: ["package.json", "pnpm-lock.yaml"],
    start: ["npm", "start"],
    port: 3000,
    evidence: [],
  }, bases);
  assert.match(pnpm, /RUN \["corepack","enable","pnpm"\]\nRUN \["pnpm","install"/);
  const py = planDockerfile({
    kind: "python",
    install: ["pip", "install", "."],
    start: ["python", "main.py"],
    port: 8000,
    evidence: ["pyproject.toml"],
  }, { ...bases, python: "registry.local/python:3.12" });
  assertExecForm(py);
  assert.match(py, /^FROM registry\.local\/python:3\.12$/m);
  assert.match(py, /COPY \["\.","\."\]\nRUN \["pip","install","\."\]/);
  assert.match(py, /CMD \["python","main\.py"\]\n$/);
});

Deno.test("planDockerfile() go: a build stage and a small runtime stage", () => {
  const df = planDockerfile({
    kind: "go",
    install: ["go", "mod", "download"],
    installFiles: ["go.mod"],
    build: ["go", "build", "-o", "/app/server", "."],
    start: ["/app/server"],
    port: 8080,
    evidence: ["go.mod"],
  }, bases);
  assertExecForm(df);
  assert.match(df, /^FROM golang:1\.23-alpine AS build$/m);
  assert.match(df, /^ENV CGO_ENABLED=0$/m);
  assert.match(df, /^FROM alpine:3\.20\nCOPY --from=build \["\/app\/server","\/app\/server"\]$/m);
  assert.match(df, /CMD \["\/app\/server"\]\n$/);
});

Deno.test("planDockerfile() static copies the served folder into nginx's root", () => {
  const df = planDockerfile({ kind: "static", root: "public", port: 80, evidence: [] }, bases);
  assertExecForm(df);
  assert.match(df, /^FROM nginx:1\.27-alpine\nCOPY \["public\/","\/usr\/share\/nginx\/html\/"\]$/m);
  const root = planDockerfile({ kind: "static", root: ".", port: 80, evidence: [] }, bases);
  assert.match(root, /COPY \["\.\/","\/usr\/share\/nginx\/html\/"\]/);
});

Deno.test("planDockerfile() without a start command fails with missing_start_script", () => {
  for (const kind of ["node", "python"] as const) {
    assert.throws(
      () => planDockerfile({ kind, port: 1, evidence: ["package.json"] }, bases),
      (e) => e instanceof BuildFailure && e.failure === "missing_start_script",
    );
  }
});

Deno.test("planSummary() names the evidence, the steps and the port", () => {
  assert.equal(
    planSummary({
      kind: "node",
      install: ["npm", "ci"],
      build: ["npm", "run", "build"],
      start: ["npm", "start"],
      port: 3000,
      evidence: ["package.json", "package-lock.json"],
    }),
    "Node.js (package.json, package-lock.json): npm ci → npm run build → npm start, port 3000",
  );
  assert.equal(
    planSummary({
      kind: "python",
      install: ["pip", "install", "."],
      port: 8000,
      evidence: ["pyproject.toml"],
    }),
    "Python (pyproject.toml): pip install . → (no start command), port 8000",
  );
  assert.equal(
    planSummary({ kind: "static", root: "dist", port: 80, evidence: ["dist/index.html"] }),
    "Static site (dist/index.html): serves dist/, port 80",
  );
});

Deno.test("baseImagesSchema fills defaults and refuses unknown keys and bad references", () => {
  assert.deepEqual(baseImagesSchema.parse({}), DEFAULT_BASE_IMAGES);
  assert.equal(
    baseImagesSchema.parse({ node: "mirror.local:5000/node:22" }).node,
    "mirror.local:5000/node:22",
  );
  assert.equal(baseImagesSchema.safeParse({ ruby: "ruby:3" }).success, false);
  assert.equal(baseImagesSchema.safeParse({ node: "node:22 ; rm -rf /" }).success, false);
  assert.equal(baseImagesSchema.safeParse({ node: "" }).success, false);
});
