/**
 * `deno task admin <command>`: account administration against the configured database (works while
 * the hub runs: SQLite in WAL mode with IMMEDIATE transactions, or PostgreSQL).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import {
  emailSchema,
  nameSchema,
  orgRoleSchema,
  passwordSchema,
  slugSchema,
} from "../lib/auth/schema.ts";
import type { ActionContext } from "../lib/audit/service.ts";
import { HttpError } from "../lib/http/errors.ts";
import { DomainError } from "../lib/errors.ts";
import { generateReleaseKeys, keyId } from "../lib/release_format/signing.ts";
import { readReleaseDir } from "../lib/releases/release_dir.ts";
import { collectEncrypted } from "../lib/module.ts";
import { StartupError } from "../lib/startup_error.ts";
import { MODULES } from "../modules.ts";
import { rotateSecretKey, USAGE_ROTATE } from "./rotate_secret_key.ts";

const USAGE = `usage: deno task admin <command> [options]

  create-user   --email E --password-stdin [--name N] [--admin] [--org SLUG --role owner|admin|member|viewer]
  reset-password --email E --password-stdin
  create-token  --email E --org SLUG --scope read|write [--name N] [--expires-days D]
                (prints the token alone on the last line of stdout)
  list-users
  release-keygen [--out DIR]
                writes DIR/release-signing.key (private, 0600) and DIR/release-signing.pub
                (default DIR: ./release-keys); put the public key in agent/release_keys.ts
  publish-agent DIR
                stores the signed release in DIR (manifest.json, manifest.json.sig and the files,
                as \`deno task agent:build\` writes them) on the hub after verifying it
${USAGE_ROTATE}`;

const CLI: ActionContext = { actor: { type: "system", name: "admin-cli" }, ip: null };

async function readPasswordFromStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

function parse<T extends z.ZodType>(schema: T, value: unknown, flag: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, "validation", `--${flag} ${r.error.issues[0].message}`);
  return r.data;
}

/** Writes a new release signing key pair under `dir`; refuses to overwrite an existing key. */
async function releaseKeygen(dir: string): Promise<number> {
  const { publicKey, privateKey } = await generateReleaseKeys();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const priv = join(dir, "release-signing.key");
  const pub = join(dir, "release-signing.pub");
  try {
    await Deno.writeTextFile(priv, privateKey + "\n", { mode: 0o600, createNew: true });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new HttpError(409, "conflict", `${priv} exists; refusing to overwrite a signing key`);
    }
    throw err;
  }
  await Deno.chmod(priv, 0o600);
  await Deno.writeTextFile(pub, publicKey + "\n", { mode: 0o644 });
  console.log(`private key: ${priv} (0600; keep it off the hub and out of git)`);
  console.log(`public key:  ${pub} (id ${await keyId(publicKey)})`);
  console.log(publicKey);
  return 0;
}

/** Runs one admin command; returns the process exit code. */
export async function runAdmin(argv: string[], env = Deno.env.toObject()): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: "string" },
      name: { type: "string" },
      "password-stdin": { type: "boolean" },
      admin: { type: "boolean" },
      org: { type: "string" },
      role: { type: "string" },
      scope: { type: "string" },
      "expires-days": { type: "string" },
      out: { type: "string" },
      generate: { type: "boolean" },
      check: { type: "boolean" },
      "drop-previous": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  if (!command || values.help) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  // Needs no database: the signing key never touches the hub.
  if (command === "release-keygen") return await releaseKeygen(values.out ?? "release-keys");
  const config = loadConfig(env);
  const dbh = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(dbh.db);
    const s = createServices({ config, dbh, bus: createMemoryBus() });
    switch (command) {
      case "create-user": {
        if (!values["password-stdin"]) {
          throw new HttpError(400, "validation", "--password-stdin is required");
        }
        const email = parse(emailSchema, values.email, "email");
        const password = parse(passwordSchema, await readPasswordFromStdin(), "password-stdin");
        const name = parse(nameSchema, values.name ?? email.split("@")[0], "name");
        const role = values.org ? parse(orgRoleSchema, values.role ?? "member", "role") : undefined;
        const org = values.org ? parse(slugSchema, values.org, "org") : undefined;
        const user = await s.accounts.createUser(CLI, {
          email,
          name,
          password,
          isAdmin: Boolean(values.admin),
        });
        if (org && role) await s.accounts.ensureMembership(CLI, user.id, org, role);
        console.log(
          `created user ${user.email} (${user.id})${values.admin ? " as platform admin" : ""}${
            org ? `, ${role} of ${org}` : ""
          }`,
        );
        return 0;
      }
      case "reset-password": {
        if (!values["password-stdin"]) {
          throw new HttpError(400, "validation", "--password-stdin is required");
        }
        const email = parse(emailSchema, values.email, "email");
        const password = parse(passwordSchema, await readPasswordFromStdin(), "password-stdin");
        await s.accounts.resetPassword(CLI, email, password);
        console.log(`password of ${email} reset; their sessions were ended`);
        return 0;
      }
      case "create-token": {
        const email = parse(emailSchema, values.email, "email");
        const slug = parse(slugSchema, values.org, "org");
        const scope = parse(z.enum(["read", "write"]), values.scope, "scope");
        const name = parse(nameSchema, values.name ?? "cli", "name");
        const days = values["expires-days"] === undefined
          ? null
          : parse(z.coerce.number().int().min(1).max(3650), values["expires-days"], "expires-days");
        const user = await s.users.byEmail(email);
        if (!user) throw new HttpError(404, "not_found", `no user with email "${email}"`);
        const org = await s.orgs.bySlug(slug);
        if (!org) throw new HttpError(404, "not_found", `no organization "${slug}"`);
        if (!user.is_admin && !await s.orgs.roleOf(org.id, user.id)) {
          throw new HttpError(400, "validation", `${email} is not a member of ${slug}`);
        }
        const { token, record } = await s.accounts.createToken(CLI, {
          userId: user.id,
          orgId: org.id,
          name,
          scope,
          expiresAt: days ? Date.now() + days * 86_400_000 : null,
        });
        console.log(`token ${record.id} (${scope}, ${slug}) for ${email}; shown once:`);
        console.log(token);
        return 0;
      }
      case "list-users": {
        for (const u of await s.users.list(10_000)) {
          console.log(
            [u.email, u.name, u.is_admin ? "admin" : "-", new Date(u.created_at).toISOString()]
              .join("\t"),
          );
        }
        return 0;
      }
      case "rotate-secret-key": {
        const modes = (["generate", "check", "drop-previous"] as const).filter((m) => values[m]);
        if (modes.length > 1) {
          throw new HttpError(400, "validation", `--${modes.join(" and --")} do not go together`);
        }
        return await rotateSecretKey({
          config,
          db: dbh.db,
          audit: s.audit,
          ctx: CLI,
          columns: collectEncrypted(MODULES),
          print: (line) => console.log(line),
        }, modes[0] ?? "rotate");
      }
      case "publish-agent": {
        const dir = positionals[1];
        if (!dir) {
          throw new HttpError(400, "validation", "publish-agent needs the release directory");
        }
        const rel = await readReleaseDir(dir).catch((err) => {
          throw new HttpError(400, "validation", (err as Error).message);
        });
        const row = await s.releases.publish(CLI, {
          manifestText: rel.manifestText,
          signature: rel.signature,
          paths: rel.paths,
        });
        console.log(
          `published capstan-agent ${row.version} (${rel.manifest.files.length} files, key ${row.key_id}); roll it out with POST /api/v1/agent/releases/${row.version}/rollouts`,
        );
        return 0;
      }
      default:
        console.error(`unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } finally {
    await dbh.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await runAdmin(Deno.args));
  } catch (err) {
    if (
      err instanceof ConfigError || err instanceof HttpError || err instanceof DomainError ||
      err instanceof StartupError
    ) {
      console.error(`admin: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
