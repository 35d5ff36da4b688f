/**
 * Secrets in the database: the secret rows, their encrypted versions and their trail. A new
 * version and the secret's `current_version` are written in one transaction, so two rotations at
 * once (on any hub replica) get versions n+1 and n+2, never the same number. Nothing here sees a
 * plaintext: the service encrypts before and decrypts after.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import { isUniqueViolation } from "../db/unique.ts";
import type { SecretEventsTable, SecretsTable, SecretVersionsTable } from "./tables.ts";

export type Secret = SecretsTable;
/** A version's facts without its blob. */
export type SecretVersion = Omit<SecretVersionsTable, "blob">;
export type SecretEvent = Omit<SecretEventsTable, "data"> & { data: Record<string, unknown> };

const MAX_PAGE = 200;

/** Numbers as numbers: PostgreSQL answers bigint columns as strings. */
const num = <T extends object>(r: T, ...keys: (keyof T)[]): T => {
  const out = { ...r };
  for (const k of keys) if (out[k] !== null) out[k] = Number(out[k]) as T[keyof T];
  return out;
};

const secretOf = (r: SecretsTable): Secret => num(r, "created_at", "updated_at", "current_version");
const versionOf = (r: SecretVersion): SecretVersion =>
  num(r, "created_at", "version", "size_bytes");

/** A new version's encrypted value: the blob is made for its (secret id, version) context. */
export interface SealedValue {
  blob: string;
  key_id: string;
  size_bytes: number;
}

/** Creates the secrets store. */
export function createSecretStore(db: Db, clock: Clock) {
  async function get(orgId: string, name: string): Promise<Secret> {
    const row = await db.selectFrom("secrets").selectAll().where("org_id", "=", orgId)
      .where("name", "=", name).executeTakeFirst();
    if (!row) throw new NotFound(`No secret named ${name}`);
    return secretOf(row);
  }

  return {
    get,

    /** Secrets of an organization by name, a page at a time (`after`: the last name seen). */
    async list(
      orgId: string,
      opts: { search?: string; after?: string; limit?: number } = {},
    ): Promise<Secret[]> {
      let q = db.selectFrom("secrets").selectAll().where("org_id", "=", orgId);
      if (opts.search) q = q.where("name", "like", `%${opts.search.replace(/[%_\\]/g, "")}%`);
      if (opts.after) q = q.where("name", ">", opts.after);
      const rows = await q.orderBy("name").limit(Math.min(opts.limit ?? 50, MAX_PAGE)).execute();
      return rows.map(secretOf);
    },

    /** Secrets of an organization by name (those a deployment asks for). */
    async byNames(orgId: string, names: string[]): Promise<Secret[]> {
      if (!names.length) return [];
      const rows = await db.selectFrom("secrets").selectAll().where("org_id", "=", orgId)
        .where("name", "in", names).execute();
      return rows.map(secretOf);
    },

    /**
     * Stores a new secret with its version 1. `seal` encrypts for the new secret's id (known only
     * here). A name taken in the organization is a Conflict.
     */
    async create(
      s: Pick<Secret, "org_id" | "name" | "description" | "kind" | "created_by">,
      seal: (secretId: string, version: number) => Promise<SealedValue>,
    ): Promise<Secret> {
      const now = clock.now();
      const id = uuidv7(now);
      const sealed = await seal(id, 1);
      const row: SecretsTable = {
        ...s,
        id,
        current_version: 1,
        created_at: now,
        updated_by: s.created_by,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await tx.insertInto("secrets").values(row).execute();
          await tx.insertInto("secret_versions").values({
            secret_id: id,
            version: 1,
            org_id: s.org_id,
            ...sealed,
            created_by: s.created_by,
            created_at: now,
          }).execute();
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new Conflict(`A secret named ${s.name} already exists`, "conflict", {
            name: "is taken in this organization",
          });
        }
        throw err;
      }
      return row;
    },

    /**
     * Adds version n+1 and makes it current, atomically; a concurrent rotation that took n+1
     * first makes this one try n+2.
     */
    async addVersion(
      secret: Secret,
      by: string | null,
      seal: (secretId: string, version: number) => Promise<SealedValue>,
    ): Promise<Secret> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const fresh = await get(secret.org_id, secret.name);
        const version = fresh.current_version + 1;
        const sealed = await seal(secret.id, version);
        const now = clock.now();
        try {
          await db.transaction().execute(async (tx) => {
            await tx.insertInto("secret_versions").values({
              secret_id: secret.id,
              version,
              org_id: secret.org_id,
              ...sealed,
              created_by: by,
              created_at: now,
            }).execute();
            await tx.updateTable("secrets").set({
              current_version: version,
              updated_by: by,
              updated_at: now,
            }).where("id", "=", secret.id).where("current_version", "<", version).execute();
          });
          return { ...fresh, current_version: version, updated_by: by, updated_at: now };
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
      throw new Conflict("The secret is being changed by someone else; try again");
    },

    async setDescription(secret: Secret, description: string, by: string | null) {
      await db.updateTable("secrets").set({ description, updated_by: by, updated_at: clock.now() })
        .where("id", "=", secret.id).execute();
    },

    async remove(secret: Secret): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("secret_events").where("secret_id", "=", secret.id).execute();
        await tx.deleteFrom("secret_versions").where("secret_id", "=", secret.id).execute();
        await tx.deleteFrom("secrets").where("id", "=", secret.id).execute();
      });
    },

    /** A version's encrypted blob, or undefined once it was purged. */
    async blob(secretId: string, version: number): Promise<string | undefined> {
      const row = await db.selectFrom("secret_versions").select("blob")
        .where("secret_id", "=", secretId).where("version", "=", version).executeTakeFirst();
      return row?.blob;
    },

    /** The versions a secret still has, newest first. */
    async versions(secretId: string): Promise<SecretVersion[]> {
      const rows = await db.selectFrom("secret_versions").select([
        "secret_id",
        "version",
        "org_id",
        "key_id",
        "size_bytes",
        "created_by",
        "created_at",
      ]).where("secret_id", "=", secretId).orderBy("version", "desc").execute();
      return rows.map(versionOf);
    },

    /**
     * Old versions (not current, made before `before`) except those `keep` names, at most
     * `limit`: what the purge job deletes.
     */
    async purgeable(before: number, limit: number): Promise<SecretVersion[]> {
      const rows = await db.selectFrom("secret_versions")
        .innerJoin("secrets", "secrets.id", "secret_versions.secret_id")
        .select([
          "secret_versions.secret_id",
          "secret_versions.version",
          "secret_versions.org_id",
          "secret_versions.key_id",
          "secret_versions.size_bytes",
          "secret_versions.created_by",
          "secret_versions.created_at",
        ])
        .where("secret_versions.created_at", "<", before)
        .whereRef("secret_versions.version", "<", "secrets.current_version")
        .orderBy("secret_versions.created_at").limit(limit).execute();
      return rows.map(versionOf);
    },

    async deleteVersion(secretId: string, version: number): Promise<void> {
      await db.deleteFrom("secret_versions").where("secret_id", "=", secretId)
        .where("version", "=", version).execute();
    },

    /** Appends to a secret's trail. */
    async event(
      secret: Pick<Secret, "id" | "org_id">,
      e: Pick<SecretEvent, "kind" | "version" | "actor_name" | "message" | "data">,
    ): Promise<void> {
      const now = clock.now();
      await db.insertInto("secret_events").values({
        id: uuidv7(now),
        secret_id: secret.id,
        org_id: secret.org_id,
        at: now,
        ...e,
        data: JSON.stringify(e.data),
      }).execute();
    },

    /** A secret's trail, newest first (`before`: the last id of the previous page). */
    async events(
      secretId: string,
      opts: { before?: string; limit?: number } = {},
    ): Promise<SecretEvent[]> {
      let q = db.selectFrom("secret_events").selectAll().where("secret_id", "=", secretId);
      if (opts.before) q = q.where("id", "<", opts.before);
      const rows = await q.orderBy("id", "desc").limit(Math.min(opts.limit ?? 50, MAX_PAGE))
        .execute();
      return rows.map((r) => ({
        ...num(r, "at", "version"),
        data: JSON.parse(r.data) as Record<string, unknown>,
      }));
    },
  };
}

export type SecretStore = ReturnType<typeof createSecretStore>;
