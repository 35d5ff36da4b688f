/**
 * Stand-in images for the official images the built-in templates use, for end-to-end tests: no
 * registry is reachable here, so mariadb:11 or wordpress:6 cannot be pulled. Each stand-in is
 * built locally FROM capstan-test/busybox with one shared script (standin.sh) and behaves like
 * its official image on the wire, as far as the templates need: a database listens on its port
 * only after a delay and ships the health-check program the template calls; a site waits until
 * the database named in its environment answers, then serves a page naming what it saw (names,
 * never values). The nginx stand-in runs the command it is given, as nginx's entrypoint does,
 * with an `nginx` that serves /usr/share/nginx/html, so the Decap template's start script runs.
 *
 * Images are tagged by a hash of their build context, so they are built once per machine and
 * rebuilt only when this file or the script changes (tests/support/local_images.ts).
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { TEST_IMAGE } from "../../lib/docker/testing.ts";
import { ensureLocalImage, type ImageFiles } from "./local_images.ts";

/** How one stand-in behaves (baked into its image as STANDIN_* environment). */
export interface Standin {
  role: "db" | "site" | "exec";
  port: number;
  /** Health-check programs the templates call, at the official image's paths (they probe the port). */
  probes?: string[];
  /** Variables naming a database (host[:port] or a URL) a site waits for. */
  waitEnv?: string[];
  /** The port of a database named without one. */
  dbPort?: number;
  /** Variables reported as set, by name. */
  reportEnv?: string[];
  /** Groups of variables (`A|B`) of which one must be set, as the official image insists. */
  requireEnv?: string[];
  /** The image's default command. */
  cmd?: string[];
}

/** A stand-in for every image the built-in templates use, by the official reference. */
export const STANDINS: Record<string, Standin> = {
  "mariadb:11": {
    role: "db",
    port: 3306,
    probes: ["/usr/local/bin/healthcheck.sh"],
    requireEnv: [
      "MARIADB_ROOT_PASSWORD|MARIADB_RANDOM_ROOT_PASSWORD|MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
    ],
    reportEnv: ["MARIADB_DATABASE", "MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD"],
  },
  "postgres:17": {
    role: "db",
    port: 5432,
    probes: ["/usr/local/bin/pg_isready"],
    requireEnv: ["POSTGRES_PASSWORD|POSTGRES_HOST_AUTH_METHOD"],
    reportEnv: ["POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"],
  },
  "mongo:8": {
    role: "db",
    port: 27017,
    probes: ["/usr/local/bin/mongosh"],
    reportEnv: [
      "MONGO_INITDB_ROOT_USERNAME",
      "MONGO_INITDB_ROOT_PASSWORD",
      "MONGO_INITDB_DATABASE",
    ],
  },
  "wordpress:6": {
    role: "site",
    port: 80,
    waitEnv: ["WORDPRESS_DB_HOST"],
    dbPort: 3306,
    reportEnv: [
      "WORDPRESS_DB_HOST",
      "WORDPRESS_DB_NAME",
      "WORDPRESS_DB_USER",
      "WORDPRESS_DB_PASSWORD",
      "WORDPRESS_AUTH_KEY",
    ],
  },
  "node:22-alpine": {
    role: "site",
    port: 3000,
    waitEnv: ["DATABASE_URI", "MONGODB_URI", "DATABASE_URL"],
    reportEnv: ["DATABASE_URI", "MONGODB_URI", "PAYLOAD_SECRET", "NODE_ENV", "PORT"],
  },
  "python:3.13-slim": {
    role: "site",
    port: 8000,
    waitEnv: ["DATABASE_URL"],
    reportEnv: ["DATABASE_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PORT"],
  },
  "golang:1.25-alpine": {
    role: "site",
    port: 8080,
    waitEnv: ["DATABASE_URL"],
    reportEnv: ["PORT"],
  },
  "ruby:3.4-slim": {
    role: "site",
    port: 80,
    waitEnv: ["DATABASE_URL"],
    reportEnv: ["DATABASE_URL", "SECRET_KEY_BASE", "RAILS_ENV"],
  },
  "nginx:1-alpine": { role: "exec", port: 80, cmd: ["nginx", "-g", "daemon off;"] },
};

const SCRIPT = new URL("./standin.sh", import.meta.url);

/** The files of a stand-in's build context, path → [mode, content]. */
function buildContext(ref: string, s: Standin, script: string): ImageFiles {
  const files: ImageFiles = new Map();
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    STANDIN_NAME: ref.split(":")[0],
    STANDIN_ROLE: s.role,
    STANDIN_PORT: String(s.port),
    STANDIN_DB_PORT: String(s.dbPort ?? ""),
    STANDIN_WAIT_ENV: (s.waitEnv ?? []).join(" "),
    STANDIN_REPORT_ENV: (s.reportEnv ?? []).join(" "),
    STANDIN_REQUIRE_ENV: (s.requireEnv ?? []).join(" "),
  };
  files.set("root/standin/standin.sh", [0o755, script]);
  for (const p of s.probes ?? []) {
    files.set(`root${p}`, [0o755, '#!/bin/sh\nexec /standin/standin.sh --standin-probe "$@"\n']);
  }
  if (s.role === "exec") {
    files.set("root/usr/sbin/nginx", [
      0o755,
      '#!/bin/sh\nexec /standin/standin.sh --standin-nginx "$@"\n',
    ]);
    files.set("root/usr/share/nginx/html/index.html", [
      0o644,
      "<!doctype html><title>Welcome to nginx!</title><h1>Welcome to nginx!</h1>" +
      "<p>(capstan stand-in for nginx)</p>\n",
    ]);
  }
  const envLine = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(
    " \\\n    ",
  );
  files.set(
    "Dockerfile",
    [
      0o644,
      [
        `FROM ${TEST_IMAGE}`,
        "COPY root/ /",
        `ENV ${envLine}`,
        `LABEL capstan.test="1" capstan.standin=${JSON.stringify(ref)}`,
        `EXPOSE ${s.port}`,
        'ENTRYPOINT ["/standin/standin.sh"]',
        `CMD ${JSON.stringify(s.cmd ?? [])}`,
        "",
      ].join("\n"),
    ],
  );
  return files;
}

/** The stand-in's repository name: `capstan-standin/mariadb-11`. */
const repository = (ref: string) => `capstan-standin/${ref.replace(/[^a-z0-9.]+/g, "-")}`;

async function ensureOne(docker: DockerClient, ref: string, s: Standin): Promise<string> {
  return await ensureLocalImage(
    docker,
    repository(ref),
    buildContext(ref, s, await Deno.readTextFile(SCRIPT)),
  );
}

/**
 * Builds (once per content) the stand-ins and returns the image override map for rendering the
 * built-in templates: `{ "mariadb:11": "capstan-standin/mariadb-11:<hash>", … }`.
 */
export async function ensureStandins(docker: DockerClient): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(STANDINS).map(async ([ref, s]) => [ref, await ensureOne(docker, ref, s)]),
  );
  return Object.fromEntries(entries);
}
