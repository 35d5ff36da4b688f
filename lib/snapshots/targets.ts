/**
 * Storage targets: where an org's snapshots go. Each target holds one restic repository for its
 * org, whose password Capstan generates; it and the target's credentials (an S3 secret key, an
 * SFTP private key) are sealed in one blob under the hub's key ring and never answered
 * (write-only). `access` opens them for one agent call.
 */
import { z } from "zod";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { SecretBox } from "../crypto/secrets.ts";
import { Conflict, invalidFields, invalidInput, NotFound } from "../errors.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken, uuidv7 } from "../util/ids.ts";
import {
  AbsPath as ProtocolAbsPath,
  SftpPath,
  type SnapshotTarget,
  SshWord as ProtocolSshWord,
} from "../protocol/snapshots.ts";
import { s3TargetSchema } from "./s3_probe.ts";
import type { SnapshotStore, StorageTarget } from "./store.ts";
import { Cron, nextRun } from "./cron.ts";

/** The context a target's secrets blob is sealed for. */
export const targetSecretsContext = (id: string) => `storage-target:${id}`;

/** Verification runs weekly by default (Sunday 03:00 UTC). */
export const DEFAULT_VERIFY_CRON = "0 3 * * 0";

const Name = z.string().trim().min(1).max(64).regex(
  /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/,
  "letters, digits, spaces and _ . - only",
);
// The protocol's own rules (what the agent accepts), after trimming what a form sends.
const trimmed = <T extends z.ZodType<string, string>>(rule: T) => z.string().trim().pipe(rule);
const AbsPath = trimmed(ProtocolAbsPath);
const SshWord = trimmed(ProtocolSshWord);

const common = {
  name: Name,
  is_default: z.boolean().optional(),
  verify_cron: Cron.optional(),
};

/** A new target as the API and the form give it. Secrets are write-only. */
export const TargetInput = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("filesystem"),
    ...common,
    /** A folder on each host (a NAS share mounted there); absent: `<agent data dir>/snapshots`. */
    path: AbsPath.optional(),
  }).strict(),
  z.object({
    kind: z.literal("sftp"),
    ...common,
    host: SshWord,
    port: z.number().int().min(1).max(65535).default(22),
    user: SshWord,
    path: trimmed(SftpPath),
    private_key: z.string().min(1).max(16_384),
    known_hosts: z.string().max(16_384).optional(),
  }).strict(),
  z.object({ kind: z.literal("s3"), ...common, ...s3TargetSchema.shape }).strict(),
]);
export type TargetInput = z.input<typeof TargetInput>;

/** What may change on a target (secrets given again replace the stored ones; absent stay). */
export const TargetPatch = z.object({
  name: Name.optional(),
  is_default: z.boolean().optional(),
  verify_cron: Cron.optional(),
  path: z.string().max(4096).optional(),
  host: SshWord.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: SshWord.optional(),
  known_hosts: z.string().max(16_384).optional(),
  private_key: z.string().min(1).max(16_384).optional(),
  endpoint: s3TargetSchema.shape.endpoint.optional(),
  region: s3TargetSchema.shape.region.optional(),
  bucket: s3TargetSchema.shape.bucket.optional(),
  prefix: s3TargetSchema.shape.prefix.optional(),
  access_key_id: s3TargetSchema.shape.access_key_id.optional(),
  secret_access_key: s3TargetSchema.shape.secret_access_key.optional(),
  path_style: z.boolean().optional(),
  ca_pem: s3TargetSchema.shape.ca_pem,
}).strict();
export type TargetPatch = z.input<typeof TargetPatch>;

/** The secrets of a target (never answered). */
interface TargetSecrets {
  password: string;
  secret_access_key?: string;
  private_key?: string;
}

/** Keys of the secrets, removed from the settings before they are stored or answered. */
const SECRET_KEYS = ["secret_access_key", "private_key"] as const;

/** A target as it is answered: settings without secrets, and which secrets are set. */
export interface TargetView {
  id: string;
  name: string;
  kind: StorageTarget["kind"];
  config: Record<string, unknown>;
  /** Which write-only secrets are stored (never their values). */
  secrets_set: string[];
  is_default: boolean;
  tested_at: number | null;
  test_ok: boolean | null;
  test_error: string | null;
  verify_cron: string;
  verified_at: number | null;
  verify_status: StorageTarget["verify_status"];
  verify_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A target opened for an agent call: the protocol's target and the repository password. */
export interface OpenedTarget {
  row: StorageTarget;
  target: SnapshotTarget;
  password: string;
}

export interface TargetDeps {
  store: SnapshotStore;
  box: () => Promise<SecretBox>;
  audit: Pick<AuditLog, "run">;
  clock: Clock;
}

export function viewOf(t: StorageTarget): TargetView {
  const config = JSON.parse(t.config) as Record<string, unknown>;
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    config,
    secrets_set: t.kind === "s3" ? ["secret_access_key"] : t.kind === "sftp" ? ["private_key"] : [],
    is_default: t.is_default === 1,
    tested_at: t.tested_at,
    test_ok: t.test_ok === null ? null : t.test_ok === 1,
    test_error: t.test_error,
    verify_cron: t.verify_cron,
    verified_at: t.verified_at,
    verify_status: t.verify_status,
    verify_error: t.verify_error,
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** The settings of `input` without its secrets and the fields every kind has. */
function settingsOf(input: Record<string, unknown>): Record<string, unknown> {
  const { kind: _k, name: _n, is_default: _d, verify_cron: _v, ...rest } = input;
  for (const k of SECRET_KEYS) delete rest[k];
  return rest;
}

/** The protocol's target (lib/protocol/snapshots.ts) from a row's settings and secrets. */
export function protocolTarget(
  kind: StorageTarget["kind"],
  config: Record<string, unknown>,
  secrets: TargetSecrets,
  defaultPath: (cfg: Record<string, unknown>) => string,
): SnapshotTarget {
  if (kind === "filesystem") return { kind, path: defaultPath(config) };
  if (kind === "sftp") {
    return {
      kind,
      host: String(config.host),
      port: Number(config.port ?? 22),
      user: String(config.user),
      path: String(config.path),
      private_key: secrets.private_key ?? "",
      ...(config.known_hosts ? { known_hosts: String(config.known_hosts) } : {}),
    };
  }
  return {
    kind,
    endpoint: String(config.endpoint),
    region: String(config.region ?? ""),
    bucket: String(config.bucket),
    prefix: String(config.prefix ?? ""),
    access_key_id: String(config.access_key_id),
    secret_access_key: secrets.secret_access_key ?? "",
    path_style: Boolean(config.path_style),
    ...(config.ca_pem ? { ca_cert_pem: String(config.ca_pem) } : {}),
  };
}

export function createTargets(deps: TargetDeps) {
  const { store, audit, clock } = deps;

  async function mustGet(orgId: string, id: string): Promise<StorageTarget> {
    const t = await store.target(orgId, id);
    if (!t) throw new NotFound(`No storage target ${id}`);
    return t;
  }

  async function seal(id: string, s: TargetSecrets) {
    const box = await deps.box();
    return {
      secrets: await box.encrypt(JSON.stringify(s), targetSecretsContext(id)),
      secrets_key_id: box.keyId,
    };
  }

  async function secretsOf(t: StorageTarget): Promise<TargetSecrets> {
    const box = await deps.box();
    return JSON.parse(await box.decrypt(t.secrets, targetSecretsContext(t.id)));
  }

  /** Runs a change of a target under one audit row. */
  const audited = <T>(
    ctx: ActionContext,
    orgId: string,
    action: string,
    target: { id?: string; name?: string },
    body: () => Promise<T>,
    metadata: Record<string, unknown> = {},
  ) =>
    audit.run(
      ctx,
      action,
      { orgId, target: { type: "storage_target", ...target }, metadata },
      body,
    );

  return {
    async list(orgId: string): Promise<TargetView[]> {
      return (await store.targets(orgId)).map(viewOf);
    },
    async get(orgId: string, id: string): Promise<TargetView> {
      return viewOf(await mustGet(orgId, id));
    },
    /** The row (for other use cases of this module). */
    row: mustGet,

    async create(ctx: ActionContext, orgId: string, raw: unknown): Promise<TargetView> {
      const parsed = TargetInput.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error);
      const input = parsed.data;
      const now = clock.now();
      const id = uuidv7(now);
      const secrets: TargetSecrets = { password: randomToken("", 32) };
      if (input.kind === "s3") secrets.secret_access_key = input.secret_access_key;
      if (input.kind === "sftp") secrets.private_key = input.private_key;
      const first = (await store.targets(orgId)).length === 0;
      const verifyCron = input.verify_cron ?? DEFAULT_VERIFY_CRON;
      return await audited(
        ctx,
        orgId,
        "storage_target.created",
        { id, name: input.name },
        async () => {
          const row: StorageTarget = {
            id,
            org_id: orgId,
            name: input.name,
            kind: input.kind,
            config: JSON.stringify(settingsOf(input)),
            ...(await seal(id, secrets)),
            is_default: first || input.is_default ? 1 : 0,
            tested_at: null,
            test_ok: null,
            test_error: null,
            verify_cron: verifyCron,
            verified_at: null,
            verify_status: "none",
            verify_error: null,
            verify_next_at: nextRun(verifyCron, "UTC", now),
            created_by: ctx.actor.id ?? null,
            created_at: now,
            updated_at: now,
          };
          try {
            await store.insertTarget(row);
          } catch (err) {
            if (isUniqueViolation(err)) {
              throw invalidFields({ name: `A target named "${input.name}" exists already` });
            }
            throw err;
          }
          if (row.is_default && !first) await store.setDefaultTarget(orgId, id);
          return viewOf(row);
        },
        { kind: input.kind },
      );
    },

    async update(ctx: ActionContext, orgId: string, id: string, raw: unknown): Promise<TargetView> {
      const parsed = TargetPatch.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error);
      const patch = parsed.data;
      const t = await mustGet(orgId, id);
      return await audited(ctx, orgId, "storage_target.updated", { id, name: t.name }, async () => {
        const config = { ...JSON.parse(t.config), ...settingsOf({ ...patch }) };
        // The whole target must still be valid once the patch is applied.
        const secrets = await secretsOf(t);
        if (patch.secret_access_key) secrets.secret_access_key = patch.secret_access_key;
        if (patch.private_key) secrets.private_key = patch.private_key;
        const whole = TargetInput.safeParse({
          kind: t.kind,
          name: patch.name ?? t.name,
          ...config,
          ...(t.kind === "s3" ? { secret_access_key: secrets.secret_access_key } : {}),
          ...(t.kind === "sftp" ? { private_key: secrets.private_key } : {}),
        });
        if (!whole.success) throw invalidInput(whole.error);
        const changes: Partial<StorageTarget> = {
          config: JSON.stringify(settingsOf(whole.data)),
          ...(patch.name ? { name: patch.name } : {}),
          ...(patch.secret_access_key || patch.private_key ? await seal(id, secrets) : {}),
        };
        if (patch.verify_cron) {
          changes.verify_cron = patch.verify_cron;
          changes.verify_next_at = nextRun(patch.verify_cron, "UTC", clock.now());
        }
        try {
          await store.updateTarget(orgId, id, changes);
        } catch (err) {
          if (isUniqueViolation(err)) {
            throw invalidFields({ name: `A target named "${patch.name}" exists already` });
          }
          throw err;
        }
        if (patch.is_default) await store.setDefaultTarget(orgId, id);
        return viewOf(await mustGet(orgId, id));
      }, { changed: Object.keys(patch).filter((k) => !SECRET_KEYS.includes(k as never)) });
    },

    /** Removes a target's record (its repository and the data in it stay where they are). */
    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      const t = await mustGet(orgId, id);
      const used = await store.snapshots(orgId, { target_id: id, limit: 1 });
      if (used.length) {
        throw new Conflict(
          `Target "${t.name}" holds snapshots: delete them first, or keep the target`,
        );
      }
      await audited(ctx, orgId, "storage_target.deleted", { id, name: t.name }, async () => {
        await store.removeTarget(orgId, id);
      });
    },

    /**
     * Opens a target for an agent call: `id`, or the org's default when null. `defaultPath`
     * names the filesystem folder when the target does not (the host's data dir).
     */
    async open(
      orgId: string,
      id: string | null,
      defaultPath: (orgId: string) => string,
    ): Promise<OpenedTarget> {
      const row = id ? await mustGet(orgId, id) : await store.defaultTarget(orgId);
      if (!row) {
        throw new Conflict("The organization has no storage target: add one on the Storage page");
      }
      const secrets = await secretsOf(row);
      const config = JSON.parse(row.config) as Record<string, unknown>;
      const target = protocolTarget(
        row.kind,
        config,
        secrets,
        (c) => typeof c.path === "string" && c.path ? c.path : defaultPath(orgId),
      );
      return { row, target, password: secrets.password };
    },

    /** Records the outcome of a "Test connection". */
    async recordTest(orgId: string, id: string, ok: boolean, error: string | null) {
      await store.updateTarget(orgId, id, {
        tested_at: clock.now(),
        test_ok: ok ? 1 : 0,
        test_error: error,
      });
    },
  };
}

export type Targets = ReturnType<typeof createTargets>;
