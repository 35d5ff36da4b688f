/**
 * Secrets, as users act on them: create, rotate (a new version), describe, delete, read their
 * facts and trail — never their values. Values are encrypted before they reach the store
 * (AES-256-GCM under a data key per version, wrapped by the hub's key: lib/crypto/secrets.ts)
 * and decrypted only to hand them to Swarm at a deployment (`material`). Nothing this service
 * answers, logs or audits carries a value; errors name the secret, never what it holds.
 *
 * Which apps use a secret is the apps module's knowledge: it registers itself as a consumer
 * (`consumers.register`), so deletion is refused while an app uses the secret and the list shows
 * the usage. A rotation emits `secret.rotated` and waits for its listeners (the apps module
 * restarts the apps as asked and writes which on the trail).
 */
import { z } from "zod";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { EventBus } from "../events.ts";
import type { TokenScope } from "../db/schema.ts";
import { Conflict, Forbidden, invalidFields, invalidInput } from "../errors.ts";
import { blobKeyId, type SecretBox, SecretDecryptError } from "../crypto/secrets.ts";
import type { Secret, SecretEvent, SecretStore, SecretVersion } from "./store.ts";
import "./events.ts";
import type { RotationMode } from "./events.ts";

/** Secret names: usable as an environment variable name and a file name. */
export const SecretName = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
  "must be 1–64 letters, digits or _, not starting with a digit",
);

/** The largest value a secret may hold (decoded). */
export const MAX_SECRET_BYTES = 64 * 1024;

const Description = z.string().max(500).refine((s) => !/[\0]/.test(s), "must not contain NUL");

/** A value as the API takes it: text, or base64 for binary (exactly one). */
const ValueInput = {
  value: z.string().optional(),
  value_base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64").optional(),
};

export const CreateSecretInput = z.object({
  name: SecretName,
  description: Description.default(""),
  ...ValueInput,
}).strict();

export const RotationModes = ["rolling", "next_deploy", "restart"] as const;

export const UpdateSecretInput = z.object({
  description: Description.optional(),
  ...ValueInput,
  /** How apps that use it pick up a new value (default: a rolling restart now). */
  rotation: z.enum(RotationModes).default("rolling"),
}).strict();

/** One app's use of a secret, as its consumer (the apps module) reports it. */
export interface SecretUse {
  secret: string;
  app_id: string;
  app: string;
  /** Per service: how it gets the value. */
  services: { service: string; env?: string; file?: string }[];
  /** The version the app's running deployment uses (null: not deployed yet). */
  deployed_version: number | null;
}

/** What knows which apps use which secrets. */
export interface SecretConsumer {
  /** Uses of an organization's secrets (all of them when `secret` is absent). */
  uses(orgId: string, secret?: string): Promise<SecretUse[]>;
  /** Versions still in use by a running deployment (`<secret id>:<version>`), install-wide. */
  versionsInUse(): Promise<Set<string>>;
}

/** Who acts on secrets. */
export interface SecretCaller {
  ctx: ActionContext;
  orgId: string;
  tokenScope?: TokenScope;
}

/** A secret as the API and pages show it: facts, usage, never a value. */
export interface SecretView {
  id: string;
  name: string;
  description: string;
  kind: "text" | "binary";
  current_version: number;
  created_by: string | null;
  created_at: number;
  updated_by: string | null;
  updated_at: number;
  used_by: SecretUse[];
}

/** A value, unsealed for a deployment. */
export interface SecretMaterial {
  secret_id: string;
  name: string;
  version: number;
  kind: "text" | "binary";
  value: Uint8Array;
}

/** What a rotation did. */
export interface RotationResult {
  secret: SecretView;
  version: number;
  mode: RotationMode;
}

export interface SecretsDeps {
  store: SecretStore;
  box(): Promise<SecretBox>;
  audit: Pick<AuditLog, "run" | "record">;
  events: EventBus;
  clock: Clock;
  log: Logger;
  /** How long versions that are no longer current are kept (rollbacks use them). */
  retentionDays: number;
}

/** The context a version's value is encrypted for: it opens only as that secret's version. */
export const versionContext = (secretId: string, version: number) =>
  `secret:${secretId}:v${version}`;
const contextOf = versionContext;

/** Decodes the input's value; a missing, double or oversized value is a field error. */
function valueOf(input: { value?: string; value_base64?: string }): {
  bytes: Uint8Array;
  kind: "text" | "binary";
} {
  if (input.value !== undefined && input.value_base64 !== undefined) {
    throw invalidFields({ value: "give value or value_base64, not both" });
  }
  let bytes: Uint8Array;
  let kind: "text" | "binary";
  if (input.value_base64 !== undefined) {
    bytes = Uint8Array.from(atob(input.value_base64), (c) => c.charCodeAt(0));
    kind = "binary";
    // Base64 of valid text is still text: usable as an environment variable.
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      if (!bytes.includes(0)) kind = "text";
    } catch {
      // binary it stays
    }
  } else if (input.value !== undefined) {
    bytes = new TextEncoder().encode(input.value);
    kind = "text";
  } else {
    throw invalidFields({ value: "is required" });
  }
  if (bytes.length === 0) throw invalidFields({ value: "must not be empty" });
  if (bytes.length > MAX_SECRET_BYTES) {
    throw invalidFields({ value: `must be at most ${MAX_SECRET_BYTES / 1024} KB` });
  }
  return { bytes, kind };
}

/** Creates the secrets service. */
export function createSecrets(deps: SecretsDeps) {
  const { store, audit } = deps;
  const consumers: SecretConsumer[] = [];

  async function uses(orgId: string, secret?: string): Promise<SecretUse[]> {
    const all = await Promise.all(consumers.map((c) => c.uses(orgId, secret)));
    return all.flat();
  }

  function view(s: Secret, used: SecretUse[]): SecretView {
    return {
      id: s.id,
      name: s.name,
      description: s.description,
      kind: s.kind,
      current_version: s.current_version,
      created_by: s.created_by,
      created_at: s.created_at,
      updated_by: s.updated_by,
      updated_at: s.updated_at,
      used_by: used.filter((u) => u.secret === s.name),
    };
  }

  function assertWrite(caller: SecretCaller) {
    if (caller.tokenScope === "read") {
      throw new Forbidden("This token has read scope; changing secrets needs write scope");
    }
  }

  async function seal(bytes: Uint8Array) {
    const box = await deps.box();
    return async (secretId: string, version: number) => {
      const blob = await box.encryptBytes(bytes, contextOf(secretId, version));
      // From the blob itself: the ring may have moved to a new key between two calls.
      return { blob, key_id: blobKeyId(blob)!, size_bytes: bytes.length };
    };
  }

  const actorName = (ctx: ActionContext) => ctx.actor.name ?? ctx.actor.type;

  return {
    /** Registers what knows the apps that use secrets (the apps module, at start). */
    consumers: {
      register(c: SecretConsumer) {
        consumers.push(c);
      },
    },

    async list(
      orgId: string,
      opts: { search?: string; after?: string; limit?: number } = {},
    ): Promise<SecretView[]> {
      const [secrets, used] = await Promise.all([store.list(orgId, opts), uses(orgId)]);
      return secrets.map((s) => view(s, used));
    },

    async get(orgId: string, name: string): Promise<SecretView & { versions: SecretVersion[] }> {
      const s = await store.get(orgId, name);
      const [used, versions] = await Promise.all([uses(orgId, name), store.versions(s.id)]);
      return { ...view(s, used), versions };
    },

    async trail(orgId: string, name: string, opts: { before?: string; limit?: number } = {}) {
      const s = await store.get(orgId, name);
      return await store.events(s.id, opts);
    },

    async create(caller: SecretCaller, input: unknown): Promise<SecretView> {
      assertWrite(caller);
      const parsed = CreateSecretInput.safeParse(input);
      if (!parsed.success) throw invalidInput(parsed.error);
      const { name, description } = parsed.data;
      return await audit.run(caller.ctx, "secret.create", {
        orgId: caller.orgId,
        target: { type: "secret", name },
        after: (v: SecretView) => ({ target: { type: "secret", id: v.id, name } }),
      }, async () => {
        const { bytes, kind } = valueOf(parsed.data);
        const s = await store.create({
          org_id: caller.orgId,
          name,
          description,
          kind,
          created_by: caller.ctx.actor.id ?? null,
        }, await seal(bytes));
        bytes.fill(0);
        await store.event(s, {
          kind: "created",
          version: 1,
          actor_name: actorName(caller.ctx),
          message: `Created with version 1 (${kind})`,
          data: {},
        });
        return view(s, []);
      });
    },

    /**
     * Changes the description and/or the value. A new value is a new version; the apps that
     * use the secret pick it up as `rotation` says (their listeners run before this answers).
     */
    async update(
      caller: SecretCaller,
      name: string,
      input: unknown,
    ): Promise<RotationResult> {
      assertWrite(caller);
      const parsed = UpdateSecretInput.safeParse(input);
      if (!parsed.success) throw invalidInput(parsed.error);
      const p = parsed.data;
      const secret = await store.get(caller.orgId, name);
      const rotating = p.value !== undefined || p.value_base64 !== undefined;
      return await audit.run(caller.ctx, rotating ? "secret.rotate" : "secret.update", {
        orgId: caller.orgId,
        target: { type: "secret", id: secret.id, name },
        metadata: rotating ? { rotation: p.rotation } : {},
        after: (r: RotationResult) => ({ metadata: { version: r.version } }),
      }, async () => {
        const by = caller.ctx.actor.id ?? null;
        if (p.description !== undefined) await store.setDescription(secret, p.description, by);
        if (!rotating) {
          const s = await store.get(caller.orgId, name);
          return {
            secret: view(s, await uses(caller.orgId, name)),
            version: s.current_version,
            mode: p.rotation,
          };
        }
        const { bytes, kind } = valueOf(p);
        if (kind !== secret.kind && kind === "binary") {
          const used = (await uses(caller.orgId, name)).filter((u) =>
            u.services.some((s) => s.env)
          );
          if (used.length) {
            throw new Conflict(
              `${name} is an environment variable of ${
                used.map((u) => u.app).join(", ")
              }; a binary value cannot be one`,
              "conflict",
              { value: "binary values can only be mounted as files" },
            );
          }
        }
        const s = await store.addVersion(secret, by, await seal(bytes));
        bytes.fill(0);
        await store.event(s, {
          kind: "rotated",
          version: s.current_version,
          actor_name: actorName(caller.ctx),
          message: `Version ${s.current_version} (${
            p.rotation === "rolling"
              ? "rolling restart now"
              : p.rotation === "restart"
              ? "restart now"
              : "at next deploy"
          })`,
          data: { mode: p.rotation },
        });
        await deps.events.emitAndWait("secret.rotated", {
          org_id: caller.orgId,
          secret_id: s.id,
          name,
          version: s.current_version,
          mode: p.rotation,
          ctx: caller.ctx,
        });
        return {
          secret: view(s, await uses(caller.orgId, name)),
          version: s.current_version,
          mode: p.rotation,
        };
      });
    },

    /** Deletes a secret with every version; refused (409, naming the apps) while an app uses it. */
    async remove(caller: SecretCaller, name: string): Promise<void> {
      assertWrite(caller);
      const secret = await store.get(caller.orgId, name);
      await audit.run(caller.ctx, "secret.delete", {
        orgId: caller.orgId,
        target: { type: "secret", id: secret.id, name },
      }, async () => {
        const used = await uses(caller.orgId, name);
        if (used.length) {
          throw new Conflict(
            `${name} is used by ${used.map((u) => u.app).join(", ")}; detach it from ${
              used.length === 1 ? "that app" : "those apps"
            } first`,
            "secret_in_use",
          );
        }
        await store.remove(secret);
      });
    },

    /**
     * The secrets a deployment asks for, by name: their ids, kinds and versions (`pinned`: the
     * versions an earlier deployment used, for a rollback; a purged one falls back to the current
     * version and is named in `purged`). A name the organization does not have is a field error.
     */
    async resolve(
      orgId: string,
      names: string[],
      pinned: Record<string, number> = {},
    ): Promise<{
      secrets: Record<string, { id: string; version: number; kind: "text" | "binary" }>;
      missing: string[];
      purged: { name: string; version: number; using: number }[];
    }> {
      const found = await store.byNames(orgId, [...new Set(names)]);
      const byName = new Map(found.map((s) => [s.name, s]));
      const out: Record<string, { id: string; version: number; kind: "text" | "binary" }> = {};
      const purged: { name: string; version: number; using: number }[] = [];
      for (const n of new Set(names)) {
        const s = byName.get(n);
        if (!s) continue;
        let version = pinned[n] ?? s.current_version;
        if (version !== s.current_version && !(await store.blob(s.id, version))) {
          purged.push({ name: n, version, using: s.current_version });
          version = s.current_version;
        }
        out[n] = { id: s.id, version, kind: s.kind };
      }
      return { secrets: out, missing: [...new Set(names)].filter((n) => !byName.has(n)), purged };
    },

    /**
     * A version's value, decrypted for a deployment. A wrong hub key or a tampered blob fails
     * closed with an error naming the secret and version, never the value.
     */
    async material(orgId: string, name: string, version: number): Promise<SecretMaterial> {
      const s = await store.get(orgId, name);
      const blob = await store.blob(s.id, version);
      if (!blob) throw new Conflict(`Version ${version} of secret ${name} was purged`);
      try {
        const value = await (await deps.box()).decryptBytes(blob, contextOf(s.id, version));
        return { secret_id: s.id, name, version, kind: s.kind, value };
      } catch (err) {
        if (err instanceof SecretDecryptError) {
          throw new SecretDecryptError(
            `secret ${name} version ${version}: ${
              err.message.replace(/^Cannot decrypt secret: /, "")
            }`,
          );
        }
        throw err;
      }
    },

    /**
     * A deployment gave a secret version to an app's services: audited (never the value) and
     * on the secret's trail.
     */
    async recordUse(
      orgId: string,
      name: string,
      use: { version: number; app: string; app_id: string; deployment: number },
    ): Promise<void> {
      const s = await store.get(orgId, name).catch(() => undefined);
      if (!s) return;
      await audit.record({
        ctx: { actor: { type: "system", name: "deployer" }, ip: null },
        action: "secret.used",
        orgId,
        target: { type: "secret", id: s.id, name },
        status: "ok",
        durationMs: 0,
        metadata: { app: use.app, deployment: use.deployment, version: use.version },
      });
      await store.event(s, {
        kind: "deployed",
        version: use.version,
        actor_name: null,
        message: `Version ${use.version} deployed to ${use.app} (deployment #${use.deployment})`,
        data: { apps: [{ app: use.app, app_id: use.app_id, deployment_number: use.deployment }] },
      });
    },

    /** Writes on a secret's trail (the apps module: which apps restarted, which deployed it). */
    async note(
      orgId: string,
      name: string,
      e: Pick<SecretEvent, "kind" | "version" | "actor_name" | "message" | "data">,
    ): Promise<void> {
      const s = await store.get(orgId, name).catch(() => undefined);
      if (s) await store.event(s, e);
    },

    /**
     * Deletes versions past their retention that no running deployment uses (the current
     * version is never purged), at most `limit` per pass; each lands on its secret's trail.
     */
    async purge(limit = 500): Promise<{ purged: number }> {
      const before = deps.clock.now() - deps.retentionDays * 86_400_000;
      const candidates = await store.purgeable(before, limit);
      if (!candidates.length) return { purged: 0 };
      const inUse = new Set<string>();
      for (const c of consumers) for (const v of await c.versionsInUse()) inUse.add(v);
      let purged = 0;
      for (const v of candidates) {
        if (inUse.has(`${v.secret_id}:${v.version}`)) continue;
        await store.deleteVersion(v.secret_id, v.version);
        await store.event({ id: v.secret_id, org_id: v.org_id }, {
          kind: "purged",
          version: v.version,
          actor_name: null,
          message: `Version ${v.version} purged after ${deps.retentionDays} days`,
          data: {},
        });
        purged++;
      }
      if (purged) deps.log.info("secrets: old versions purged", { purged });
      return { purged };
    },
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
