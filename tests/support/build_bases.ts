/**
 * STAND-INS for the base images of generated build plans (node:22-alpine, python:3.12-slim,
 * golang:1.23-alpine, alpine, nginx:1.27-alpine), for tests only: no registry is reachable here,
 * so the official images cannot be pulled. Each is built locally FROM capstan-test/busybox with
 * tiny busybox-sh shims of the commands a generated Dockerfile runs. They do not install, compile
 * or run anything real; they keep the contract the plans rely on, honestly and no further:
 *
 * - `npm ci` fails without a package-lock.json, and fails with "npm ERR! 404 … does-not-exist"
 *   when the lock file names a package `does-not-exist` (so a failing dependency install can be
 *   tested); `npm install`, `yarn`, `pnpm`, `corepack` succeed and install nothing.
 * - `npm run NAME` / `npm start` run the script from package.json with `sh -c`, as npm does (the
 *   scripts are found with a line-based sed parse: one `"name": "command"` per line), and fail
 *   with npm's "Missing script" otherwise.
 * - `node FILE`, `python FILE …`: serve, with busybox httpd on `$PORT`, a page naming the program
 *   and file they were asked to run, the package/app name and anything under `dist/` built before.
 * - `pip install -r FILE` fails with pip's "No matching distribution found" for a requirement
 *   named `does-not-exist`; `pip install .` succeeds.
 * - `go mod download` succeeds; `go build -o OUT .` writes OUT as a busybox-sh script that serves
 *   a page naming the module from go.mod on `$PORT` (the runtime stand-in is capstan-test/busybox).
 * - the static base serves /usr/share/nginx/html on port 80 with busybox httpd, as nginx would.
 *
 * Images are tagged by a hash of their context (tests/support/local_images.ts), built once per
 * machine and labelled capstan.test=1.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { TEST_IMAGE } from "../../lib/docker/testing.ts";
import type { BaseImages } from "../../agent/build/plan.ts";
import { ensureLocalImage, type ImageFiles } from "./local_images.ts";

/** Writes a page naming what ran, then serves it on $PORT (the official images' programs would). */
const SERVE = `#!/bin/sh
# standin-serve WHAT: the stand-in's stand-in for running an app.
set -e
www=/tmp/standin-www
mkdir -p "$www"
{
  echo "<!doctype html><title>stand-in app</title>"
  echo "<p>$1</p>"
  if [ -f package.json ]; then
    echo "<p>package: $(sed -n 's/^[[:space:]]*"name"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p' package.json | head -n 1)</p>"
  fi
  if [ -d dist ]; then for f in dist/*; do echo "<p>built: $f: $(head -c 200 "$f")</p>"; done; fi
} > "$www/index.html"
echo "stand-in serving on port \${PORT:-80}: $1"
exec httpd -f -p "\${PORT:-80}" -h "$www"
`;

const NPM = `#!/bin/sh
# Stand-in npm: see tests/support/build_bases.ts.
script_of() {
  sed -n 's/^[[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*"\\(.*\\)"[[:space:]]*,\\{0,1\\}[[:space:]]*$/\\1/p' package.json | head -n 1
}
run_script() {
  cmd=$(script_of "$1")
  if [ -z "$cmd" ]; then echo "npm ERR! Missing script: \\"$1\\"" >&2; exit 1; fi
  echo "> $1"; echo "> $cmd"
  PATH="$PWD/node_modules/.bin:$PATH" exec sh -c "$cmd"
}
case "$1" in
  ci)
    if [ ! -f package-lock.json ] && [ ! -f npm-shrinkwrap.json ]; then
      echo "npm ERR! The \\\`npm ci\\\` command can only install with an existing package-lock.json" >&2
      exit 1
    fi
    if grep -q '"does-not-exist"' package-lock.json 2>/dev/null; then
      echo "npm ERR! code E404" >&2
      echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/does-not-exist - Not found" >&2
      exit 1
    fi
    mkdir -p node_modules; echo "added 0 packages (stand-in npm ci)";;
  install|i) mkdir -p node_modules; echo "added 0 packages (stand-in npm install)";;
  run|run-script) shift; run_script "$1";;
  start) run_script start;;
  *) echo "npm ERR! stand-in npm does not know \\"$1\\"" >&2; exit 1;;
esac
`;

const INSTALL_ONLY = (name: string) =>
  `#!/bin/sh
# Stand-in ${name}: installs nothing.
mkdir -p node_modules
echo "stand-in ${name} $*: done"
`;

const PIP = `#!/bin/sh
# Stand-in pip: see tests/support/build_bases.ts.
if [ "$1" != install ]; then echo "ERROR: stand-in pip does not know $1" >&2; exit 1; fi
if [ "$2" = -r ]; then
  if grep -q '^does-not-exist' "$3"; then
    echo "ERROR: Could not find a version that satisfies the requirement does-not-exist" >&2
    echo "ERROR: No matching distribution found for does-not-exist" >&2
    exit 1
  fi
fi
echo "Successfully installed (stand-in pip $*)"
`;

const GO = `#!/bin/sh
# Stand-in go: see tests/support/build_bases.ts.
module=$(sed -n 's/^module[[:space:]]*//p' go.mod | head -n 1)
case "$1" in
  mod) echo "stand-in go mod $2: nothing to download";;
  build)
    out=""
    while [ $# -gt 0 ]; do [ "$1" = -o ] && { out="$2"; shift; }; shift; done
    [ -n "$out" ] || { echo "stand-in go build needs -o" >&2; exit 1; }
    mkdir -p "$(dirname "$out")"
    cat > "$out" <<SCRIPT
#!/bin/sh
mkdir -p /tmp/www
echo "<p>stand-in go binary of module $module</p>" > /tmp/www/index.html
exec httpd -f -p "\\\${PORT:-8080}" -h /tmp/www
SCRIPT
    chmod 755 "$out"
    echo "stand-in go build: wrote $out for module $module";;
  *) echo "stand-in go does not know $1" >&2; exit 1;;
esac
`;

/** A base image's context: the shims as files under /usr/local/bin, and its Dockerfile. */
function context(
  name: string,
  shims: Record<string, string>,
  tail: string[],
): ImageFiles {
  const files: ImageFiles = new Map();
  for (const [bin, script] of Object.entries(shims)) {
    files.set(`root/usr/local/bin/${bin}`, [0o755, script]);
  }
  files.set("Dockerfile", [
    0o644,
    [
      `FROM ${TEST_IMAGE}`,
      ...(files.size ? ["COPY root/ /"] : []),
      'ENV PATH="/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
      `LABEL capstan.test="1" capstan.standin=${JSON.stringify(name)}`,
      ...tail,
      "",
    ].join("\n"),
  ]);
  return files;
}

/** The stand-in bases' contexts, by the key of BaseImages they replace. */
function contexts(): Record<Exclude<keyof BaseImages, "goRuntime">, ImageFiles> {
  const serveAs = (prog: string) => `#!/bin/sh\nexec standin-serve "stand-in ${prog} ran: $*"\n`;
  return {
    node: context("node:22-alpine", {
      "standin-serve": SERVE,
      npm: NPM,
      yarn: INSTALL_ONLY("yarn"),
      pnpm: INSTALL_ONLY("pnpm"),
      corepack: INSTALL_ONLY("corepack"),
      node: serveAs("node"),
    }, ['CMD ["node"]']),
    python: context("python:3.12-slim", {
      "standin-serve": SERVE,
      pip: PIP,
      python: serveAs("python"),
    }, ['CMD ["python"]']),
    go: context("golang:1.23-alpine", { go: GO }, []),
    static: context("nginx:1.27-alpine", {}, [
      "RUN mkdir -p /usr/share/nginx/html && " +
      "echo '<p>Welcome to nginx! (stand-in)</p>' > /usr/share/nginx/html/index.html",
      "EXPOSE 80",
      'CMD ["httpd", "-f", "-p", "80", "-h", "/usr/share/nginx/html"]',
    ]),
  };
}

/**
 * Builds (once per content) the stand-in base images and returns them as the `BaseImages` of
 * generated Dockerfiles. The Go runtime is capstan-test/busybox itself (the stand-in "binary" is
 * a busybox-sh script).
 */
export async function ensureBuildBases(docker: DockerClient): Promise<BaseImages> {
  const entries = await Promise.all(
    Object.entries(contexts()).map(async ([key, files]) => [
      key,
      await ensureLocalImage(docker, `capstan-buildbase/${key}`, files),
    ]),
  );
  return { ...Object.fromEntries(entries), goRuntime: TEST_IMAGE } as BaseImages;
}
