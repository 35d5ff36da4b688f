/**
 * A build plan for a repository without a Dockerfile, as Nixpacks or Railpack would make one: the
 * project's kind is read from the files that decide it (package.json and its lock file,
 * requirements.txt or pyproject.toml, go.mod, an index.html), and a Dockerfile is generated from
 * it on an official base image. Every command in the generated Dockerfile is an exec-form JSON
 * array; the one exception is a Procfile line that uses the shell (`$PORT`, `&&`), which runs as
 * `sh -c` inside the app's own container, as on Heroku.
 *
 * Detection reads a handful of small files at the checkout's root and never runs anything.
 */
import * as z from "zod";
import { BuildFailure } from "../../lib/builds/failure.ts";
import { imageRef } from "../../lib/docker/validate.ts";

/** The project kinds a plan can be made for. */
export type PlanKind = "node" | "python" | "go" | "static";

/** What to build and run, and which files decided it. */
export interface BuildPlan {
  kind: PlanKind;
  /** Installs dependencies (argv). */
  install?: string[];
  /** The files the install step needs, copied first so its layer is cached while they stay. */
  installFiles?: string[];
  /** Builds the app (argv), after the whole checkout is copied. */
  build?: string[];
  /** Runs the app (argv); undefined when none was found (the build then fails). */
  start?: string[];
  /** The port the app listens on (also set as `PORT`). */
  port: number;
  /** For a static site: the folder served, relative to the checkout (`.` for its root). */
  root?: string;
  /** The files that decided the plan, for the build page. */
  evidence: string[];
}

/** The base images of generated Dockerfiles. */
export interface BaseImages {
  node: string;
  python: string;
  /** The Go toolchain, for the build stage. */
  go: string;
  /** The image a Go binary runs on (it needs a shell-less libc-free binary: CGO is off). */
  goRuntime: string;
  /** A web server serving /usr/share/nginx/html on port 80. */
  static: string;
}

/** The official images used unless `CAPSTAN_BUILD_BASE_IMAGES` names others. */
export const DEFAULT_BASE_IMAGES: Readonly<BaseImages> = Object.freeze({
  node: "node:22-alpine",
  python: "python:3.12-slim",
  go: "golang:1.23-alpine",
  goRuntime: "alpine:3.20",
  static: "nginx:1.27-alpine",
});

const imageField = (fallback: string) =>
  z.string().refine((v) => {
    try {
      imageRef(v);
      return true;
    } catch {
      return false;
    }
  }, "not a valid image reference").default(fallback);

/** The `CAPSTAN_BUILD_BASE_IMAGES` file: any of the keys, the others keep their default. */
export const baseImagesSchema = z.object({
  node: imageField(DEFAULT_BASE_IMAGES.node),
  python: imageField(DEFAULT_BASE_IMAGES.python),
  go: imageField(DEFAULT_BASE_IMAGES.go),
  goRuntime: imageField(DEFAULT_BASE_IMAGES.goRuntime),
  static: imageField(DEFAULT_BASE_IMAGES.static),
}).strict();

/**
 * Patterns a context built from a plan leaves out on top of the repository's .dockerignore: a
 * generated Dockerfile copies the whole checkout, and a static site must never serve `.git`.
 */
export const PLAN_CONTEXT_IGNORE: readonly string[] = [".git"];

/** Files read for detection are small; a larger one is not what it claims to be. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

async function exists(path: string, kind: "file" | "dir" = "file"): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return kind === "file" ? info.isFile : info.isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw err;
  }
}

async function readSmall(path: string): Promise<string | undefined> {
  if (!await exists(path)) return undefined;
  const info = await Deno.stat(path);
  if (info.size > MAX_MANIFEST_BYTES) {
    throw new BuildFailure(
      "build_failed",
      `${path.split("/").pop()} is larger than ${MAX_MANIFEST_BYTES} bytes`,
    );
  }
  return await Deno.readTextFile(path);
}

/** A plan for the checkout in `dir`, or undefined when no known project type is there. */
export async function detectPlan(dir: string): Promise<BuildPlan | undefined> {
  return await nodePlan(dir) ?? await pythonPlan(dir) ?? await goPlan(dir) ??
    await staticPlan(dir);
}

const packageJsonSchema = z.object({
  main: z.string().optional().catch(undefined),
  scripts: z.record(z.string(), z.unknown()).optional().catch(undefined),
}).passthrough();

async function nodePlan(dir: string): Promise<BuildPlan | undefined> {
  const text = await readSmall(`${dir}/package.json`);
  if (text === undefined) return undefined;
  let pkg: z.infer<typeof packageJsonSchema>;
  try {
    pkg = packageJsonSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new BuildFailure(
      "build_failed",
      `package.json does not parse: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const evidence = ["package.json"];
  const locks: [string, string[]][] = [
    ["package-lock.json", ["npm", "ci"]],
    ["npm-shrinkwrap.json", ["npm", "ci"]],
    ["yarn.lock", ["yarn", "install", "--frozen-lockfile"]],
    ["pnpm-lock.yaml", ["pnpm", "install", "--frozen-lockfile"]],
  ];
  let install = ["npm", "install"];
  const installFiles = ["package.json"];
  for (const [lock, argv] of locks) {
    if (await exists(`${dir}/${lock}`)) {
      install = argv;
      evidence.push(lock);
      installFiles.push(lock);
      break;
    }
  }
  const script = (name: string) => typeof pkg.scripts?.[name] === "string";
  let start: string[] | undefined;
  if (script("start")) start = ["npm", "start"];
  else if (pkg.main) start = ["node", pkg.main];
  return {
    kind: "node",
    install,
    installFiles,
    build: script("build") ? ["npm", "run", "build"] : undefined,
    start,
    port: 3000,
    evidence,
  };
}

/** Characters that make a Procfile line need a shell. */
const SHELL_SYNTAX = /[$`|&;<>(){}*?~"'\\]/;

/** A Procfile's `web:` command as argv (via `sh -c` when it uses shell syntax). */
function procfileWeb(text: string): string[] | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const m = /^web:\s*(.+)$/.exec(raw.trim());
    if (!m) continue;
    const line = m[1].trim();
    return SHELL_SYNTAX.test(line) ? ["/bin/sh", "-c", line] : line.split(/\s+/);
  }
  return undefined;
}

async function pythonPlan(dir: string): Promise<BuildPlan | undefined> {
  const evidence: string[] = [];
  let install: string[] | undefined;
  let installFiles: string[] | undefined;
  if (await exists(`${dir}/requirements.txt`)) {
    evidence.push("requirements.txt");
    install = ["pip", "install", "-r", "requirements.txt"];
    installFiles = ["requirements.txt"];
  } else if (await exists(`${dir}/pyproject.toml`)) {
    evidence.push("pyproject.toml");
    install = ["pip", "install", "."]; // needs the sources: runs after the whole copy
  } else {
    return undefined;
  }
  let start: string[] | undefined;
  const procfile = await readSmall(`${dir}/Procfile`);
  const web = procfile === undefined ? undefined : procfileWeb(procfile);
  if (web) {
    start = web;
    evidence.push("Procfile");
  } else {
    for (const file of ["main.py", "app.py"]) {
      if (await exists(`${dir}/${file}`)) {
        start = ["python", file];
        evidence.push(file);
        break;
      }
    }
    if (!start && await exists(`${dir}/manage.py`)) {
      start = ["python", "manage.py", "runserver", "0.0.0.0:8000"];
      evidence.push("manage.py");
    }
  }
  return { kind: "python", install, installFiles, start, port: 8000, evidence };
}

async function goPlan(dir: string): Promise<BuildPlan | undefined> {
  if (!await exists(`${dir}/go.mod`)) return undefined;
  const evidence = ["go.mod"];
  const installFiles = ["go.mod"];
  if (await exists(`${dir}/go.sum`)) {
    evidence.push("go.sum");
    installFiles.push("go.sum");
  }
  return {
    kind: "go",
    install: ["go", "mod", "download"],
    installFiles,
    build: ["go", "build", "-o", "/app/server", "."],
    start: ["/app/server"],
    port: 8080,
    evidence,
  };
}

async function staticPlan(dir: string): Promise<BuildPlan | undefined> {
  for (const root of [".", "public", "dist", "build"]) {
    const index = root === "." ? "index.html" : `${root}/index.html`;
    if (await exists(`${dir}/${index}`)) {
      return { kind: "static", root, port: 80, evidence: [index] };
    }
  }
  return undefined;
}

const exec = (argv: string[]) => JSON.stringify(argv);
const COPY_ALL = `COPY ${exec([".", "."])}`;

/**
 * The Dockerfile of a plan, on the given base images. Throws `BuildFailure("missing_start_script")`
 * for an app kind without a start command.
 */
export function planDockerfile(plan: BuildPlan, bases: BaseImages): string {
  if (plan.kind !== "static" && !plan.start) {
    throw new BuildFailure(
      "missing_start_script",
      `No start command was found for this ${KIND_NAMES[plan.kind]} project (${
        plan.evidence.join(", ")
      })`,
    );
  }
  const lines: string[] = ["# Generated by Capstan from " + plan.evidence.join(", ")];
  const installSteps = () => {
    if (!plan.install) return;
    if (plan.installFiles) {
      lines.push(`COPY ${exec([...plan.installFiles, "./"])}`);
      if (plan.install[0] === "pnpm") lines.push(`RUN ${exec(["corepack", "enable", "pnpm"])}`);
      lines.push(`RUN ${exec(plan.install)}`, COPY_ALL);
    } else {
      lines.push(COPY_ALL, `RUN ${exec(plan.install)}`);
    }
  };
  const runtime = () => {
    lines.push(`ENV PORT=${plan.port}`, `EXPOSE ${plan.port}`, `CMD ${exec(plan.start!)}`);
  };
  switch (plan.kind) {
    case "node":
      lines.push(`FROM ${bases.node}`, "WORKDIR /app");
      installSteps();
      if (plan.build) lines.push(`RUN ${exec(plan.build)}`);
      // Set after the build: a production NODE_ENV would make the install skip devDependencies
      // the build needs.
      lines.push("ENV NODE_ENV=production");
      runtime();
      break;
    case "python":
      lines.push(
        `FROM ${bases.python}`,
        "WORKDIR /app",
        "ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
      );
      installSteps();
      if (plan.build) lines.push(`RUN ${exec(plan.build)}`);
      runtime();
      break;
    case "go":
      lines.push(`FROM ${bases.go} AS build`, "WORKDIR /src", "ENV CGO_ENABLED=0");
      installSteps();
      lines.push(`RUN ${exec(plan.build ?? ["go", "build", "-o", "/app/server", "."])}`);
      lines.push(
        `FROM ${bases.goRuntime}`,
        `COPY --from=build ${exec(["/app/server", "/app/server"])}`,
      );
      runtime();
      break;
    case "static": {
      const from = plan.root && plan.root !== "." ? `${plan.root}/` : "./";
      lines.push(
        `FROM ${bases.static}`,
        `COPY ${exec([from, "/usr/share/nginx/html/"])}`,
        `EXPOSE ${plan.port}`,
      );
      break;
    }
  }
  return lines.join("\n") + "\n";
}

const KIND_NAMES: Record<PlanKind, string> = {
  node: "Node.js",
  python: "Python",
  go: "Go",
  static: "static site",
};

/** The plan in one line for the build page: what decided it, the steps and the port. */
export function planSummary(plan: BuildPlan): string {
  const name = plan.kind === "static" ? "Static site" : KIND_NAMES[plan.kind];
  const head = `${name} (${plan.evidence.join(", ")})`;
  if (plan.kind === "static") {
    return `${head}: serves ${
      plan.root === "." ? "the repository root" : `${plan.root}/`
    }, port ${plan.port}`;
  }
  const steps = [plan.install, plan.build, plan.start ?? ["(no start command)"]]
    .filter((s): s is string[] => !!s)
    .map((s) => s.join(" "));
  return `${head}: ${steps.join(" → ")}, port ${plan.port}`;
}
