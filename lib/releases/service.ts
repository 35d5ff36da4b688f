import { join } from "node:path";
import type { Db } from "../db/mod.ts";
import type { AgentReleasesTable, AgentRolloutsTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { conflict, HttpError, notFound } from "../http/errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { OutcomeReport } from "../protocol/release.ts";
import { fileFor, type Manifest, ManifestError, parseManifest } from "./manifest.ts";
import { keyId, sha256OfBytes, verifyBytes } from "./signing.ts";
import { haltReason, reaches } from "./rollout.ts";

/** Largest upload chunk (the hub's request body limit is 1 MiB; base64 is not used). */
export const MAX_CHUNK_BYTES = 512 * 1024;

const SYSTEM: ActionContext = { actor: { type: "system", name: "rollout" }, ip: null };

/** A staged rollout as the API shows it, with its progress. */
export interface RolloutView {
  id: string;
  version: string;
  percent: number;
  label: string | null;
  pinned: boolean;
  max_failures: number;
  max_failure_percent: number;
  status: AgentRolloutsTable["status"];
  halted_reason: string | null;
  created_at: number;
  succeeded: number;
  failed: number;
}

/** Input of a new rollout. */
export interface RolloutInput {
  percent: number;
  label?: string | null;
  pinned?: boolean;
  max_failures?: number;
  max_failure_percent?: number;
}

/** Release of a version that is not ready (or not there): 404 for callers. */
const noRelease = (version: string) => notFound(`agent release ${version}`);

/**
 * Agent releases on the hub: signed manifests (verified against the trusted keys before anything
 * is stored), their files under `<dataDir>/agent-releases/<version>/`, staged rollouts, and the
 * update outcomes agents report, which halt a rollout that fails too often.
 */
export function createReleases(deps: {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  dataDir: string;
  trustedKeys: () => readonly string[];
}) {
  const { db, clock, audit } = deps;
  const root = join(deps.dataDir, "agent-releases");
  const dirOf = (version: string) => join(root, version);

  async function verified(manifestText: string, signature: string) {
    const keys = deps.trustedKeys();
    if (!keys.length) {
      throw new HttpError(
        422,
        "no_release_keys",
        "No release signing keys are configured (agent/release_keys.ts or CAPSTAN_RELEASE_PUBLIC_KEYS)",
      );
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(manifestText);
    } catch (err) {
      if (err instanceof ManifestError) {
        throw new HttpError(400, "validation", err.message, { manifest: err.message });
      }
      throw err;
    }
    const bytes = new TextEncoder().encode(manifestText);
    for (const k of keys) {
      if (await verifyBytes([k], bytes, signature)) return { manifest, keyId: await keyId(k) };
    }
    throw new HttpError(
      422,
      "bad_signature",
      `The signature of agent release ${manifest.version} does not verify with a trusted key`,
      { signature: "does not verify" },
    );
  }

  async function byVersion(version: string): Promise<AgentReleasesTable | undefined> {
    return await db.selectFrom("agent_releases").selectAll().where("version", "=", version)
      .executeTakeFirst();
  }

  async function insertRelease(
    ctx: ActionContext,
    manifestText: string,
    signature: string,
    key: string,
    status: AgentReleasesTable["status"],
    version: string,
  ) {
    if (await byVersion(version)) {
      throw conflict(`Cannot publish agent release ${version}: that version exists already`);
    }
    const row: AgentReleasesTable = {
      id: uuidv7(clock.now()),
      version,
      manifest: manifestText,
      signature,
      key_id: key,
      status,
      created_by: ctx.actor.id ?? ctx.actor.name ?? null,
      created_at: clock.now(),
    };
    await db.insertInto("agent_releases").values(row).execute();
    return row;
  }

  /** Hosts an active rollout can reach: enrolled, not removed, not the hub's embedded agent. */
  async function fleet() {
    const rows = await db.selectFrom("hosts").select(["id", "labels", "org_id"])
      .where("removed_at", "is", null).where("local", "=", 0).where("token_hash", "is not", null)
      .execute();
    return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as Record<string, string> }));
  }

  async function progress(rolloutId: string) {
    const rows = await db.selectFrom("agent_update_outcomes").select(["host_id", "outcome", "at"])
      .where("rollout_id", "=", rolloutId).orderBy("at", "asc").execute();
    // Each host counts once, by its latest outcome.
    const latest = new Map<string, string>();
    for (const r of rows) latest.set(r.host_id, r.outcome);
    let succeeded = 0;
    let failed = 0;
    for (const o of latest.values()) o === "succeeded" ? succeeded++ : failed++;
    return { succeeded, failed };
  }

  async function rolloutView(r: AgentRolloutsTable, version?: string): Promise<RolloutView> {
    const v = version ??
      (await db.selectFrom("agent_releases").select("version").where("id", "=", r.release_id)
        .executeTakeFirstOrThrow()).version;
    return {
      id: r.id,
      version: v,
      percent: r.percent,
      label: r.label,
      pinned: Boolean(r.pinned),
      max_failures: r.max_failures,
      max_failure_percent: r.max_failure_percent,
      status: r.status,
      halted_reason: r.halted_reason,
      created_at: r.created_at,
      ...await progress(r.id),
    };
  }

  async function rolloutById(id: string) {
    const r = await db.selectFrom("agent_rollouts").selectAll().where("id", "=", id)
      .executeTakeFirst();
    if (!r) throw notFound("rollout");
    return r;
  }

  const self = {
    /** Where a release's files are kept. */
    filePath(version: string, name: string): string {
      return join(dirOf(version), name);
    },

    /**
     * Stores a complete release from local files (`deno task admin publish-agent <dir>`): the
     * signature must verify and every file must match the manifest's size and SHA-256.
     */
    async publish(
      ctx: ActionContext,
      input: { manifestText: string; signature: string; paths: Map<string, string> },
    ) {
      const { manifest, keyId } = await verified(input.manifestText, input.signature);
      return await audit.run(ctx, "agent_release.published", {
        target: { type: "agent_release", name: manifest.version },
        metadata: { key_id: keyId, files: manifest.files.map((f) => f.name) },
      }, async () => {
        if (await byVersion(manifest.version)) {
          throw conflict(
            `Cannot publish agent release ${manifest.version}: that version exists already`,
          );
        }
        const dir = dirOf(manifest.version);
        await Deno.mkdir(dir, { recursive: true });
        for (const f of manifest.files) {
          const src = input.paths.get(f.name);
          if (!src) throw new HttpError(400, "validation", `${f.name} is missing`);
          const bytes = await Deno.readFile(src);
          if (bytes.byteLength !== f.size || (await sha256OfBytes(bytes)) !== f.sha256) {
            throw new HttpError(
              422,
              "file_mismatch",
              `${f.name} does not match the manifest (size or SHA-256)`,
            );
          }
          await Deno.writeFile(join(dir, f.name), bytes, { mode: 0o644 });
        }
        return await insertRelease(
          ctx,
          input.manifestText,
          input.signature,
          keyId,
          "ready",
          manifest.version,
        );
      });
    },

    /** Starts an upload through the API: the signed manifest first; files follow in chunks. */
    async beginUpload(ctx: ActionContext, input: { manifestText: string; signature: string }) {
      const { manifest, keyId } = await verified(input.manifestText, input.signature);
      return await audit.run(ctx, "agent_release.upload_started", {
        target: { type: "agent_release", name: manifest.version },
        metadata: { key_id: keyId },
      }, async () => {
        await Deno.mkdir(dirOf(manifest.version), { recursive: true });
        return await insertRelease(
          ctx,
          input.manifestText,
          input.signature,
          keyId,
          "uploading",
          manifest.version,
        );
      });
    },

    /**
     * Appends one chunk of a release file at `offset` (chunks in order; a repeated chunk at the
     * current size is idempotent). A file that reaches its size is checked against the manifest;
     * the release becomes ready when all its files are there.
     */
    async uploadChunk(
      ctx: ActionContext,
      version: string,
      name: string,
      offset: number,
      bytes: Uint8Array<ArrayBuffer>,
    ): Promise<{ received: number; complete: boolean; release_ready: boolean }> {
      const rel = await byVersion(version);
      if (!rel) throw noRelease(version);
      const manifest = parseManifest(rel.manifest);
      const file = manifest.files.find((f) => f.name === name);
      if (!file) throw notFound(`file ${name} in agent release ${version}`);
      const final = self.filePath(version, name);
      const partial = `${final}.partial`;
      const exists = (p: string) => Deno.stat(p).then((s) => s.size, () => undefined);
      if (rel.status === "ready" || await exists(final) !== undefined) {
        return { received: file.size, complete: true, release_ready: rel.status === "ready" };
      }
      const have = (await exists(partial)) ?? 0;
      if (offset !== have) {
        throw conflict(`Upload of ${name} continues at offset ${have}, not ${offset}`);
      }
      if (have + bytes.byteLength > file.size) {
        throw new HttpError(422, "file_mismatch", `${name} is larger than the manifest says`);
      }
      const f = await Deno.open(partial, { append: true, create: true, mode: 0o644 });
      try {
        let w = 0;
        while (w < bytes.byteLength) w += await f.write(bytes.subarray(w));
      } finally {
        f.close();
      }
      const received = have + bytes.byteLength;
      if (received < file.size) return { received, complete: false, release_ready: false };
      if ((await sha256OfBytes(await Deno.readFile(partial))) !== file.sha256) {
        await Deno.remove(partial);
        throw new HttpError(422, "file_mismatch", `${name} does not match the manifest's SHA-256`);
      }
      await Deno.rename(partial, final);
      const all = await Promise.all(
        manifest.files.map((x) => exists(self.filePath(version, x.name))),
      );
      const ready = all.every((s) => s !== undefined);
      if (ready) {
        await audit.run(ctx, "agent_release.published", {
          target: { type: "agent_release", id: rel.id, name: version },
          metadata: { key_id: rel.key_id, files: manifest.files.map((x) => x.name) },
        }, async () => {
          await db.updateTable("agent_releases").set({ status: "ready" }).where("id", "=", rel.id)
            .execute();
        });
      }
      return { received, complete: true, release_ready: ready };
    },

    /** Releases, newest first, with their rollouts. */
    async list(limit = 50) {
      const rels = await db.selectFrom("agent_releases").selectAll().orderBy("created_at", "desc")
        .limit(limit).execute();
      const rollouts = await db.selectFrom("agent_rollouts").selectAll()
        .orderBy("created_at", "desc").limit(200).execute();
      return await Promise.all(rels.map(async (r) => ({
        id: r.id,
        version: r.version,
        status: r.status,
        key_id: r.key_id,
        created_at: r.created_at,
        files: parseManifest(r.manifest).files,
        rollouts: await Promise.all(
          rollouts.filter((o) => o.release_id === r.id).map((o) => rolloutView(o, r.version)),
        ),
      })));
    },

    /** Starts a rollout of a ready release; an active rollout of another release is superseded. */
    async startRollout(ctx: ActionContext, version: string, input: RolloutInput) {
      return await audit.run(ctx, "agent_rollout.started", {
        target: { type: "agent_release", name: version },
        metadata: { ...input },
      }, async () => {
        const rel = await byVersion(version);
        if (!rel || rel.status !== "ready") throw noRelease(version);
        const now = clock.now();
        await db.updateTable("agent_rollouts").set({ status: "superseded", updated_at: now })
          .where("status", "=", "active").execute();
        const row: AgentRolloutsTable = {
          id: uuidv7(now),
          release_id: rel.id,
          percent: input.percent,
          label: input.label ?? null,
          pinned: input.pinned ? 1 : 0,
          max_failures: input.max_failures ?? 2,
          max_failure_percent: input.max_failure_percent ?? 25,
          status: "active",
          halted_reason: null,
          created_by: ctx.actor.id ?? ctx.actor.name ?? null,
          created_at: now,
          updated_at: now,
        };
        await db.insertInto("agent_rollouts").values(row).execute();
        return await rolloutView(row, version);
      });
    },

    /** Changes a rollout's reach (widen a stage) or state (halt, resume). */
    async changeRollout(
      ctx: ActionContext,
      id: string,
      change: { percent?: number; status?: "active" | "halted" },
    ) {
      return await audit.run(ctx, "agent_rollout.changed", {
        target: { type: "agent_rollout", id },
        metadata: { ...change },
      }, async () => {
        const r = await rolloutById(id);
        if (r.status === "superseded") {
          throw conflict("Cannot change a superseded rollout; start a new one");
        }
        const now = clock.now();
        if (change.status === "active" && r.status !== "active") {
          await db.updateTable("agent_rollouts").set({ status: "superseded", updated_at: now })
            .where("status", "=", "active").execute();
        }
        await db.updateTable("agent_rollouts").set({
          percent: change.percent ?? r.percent,
          status: change.status ?? r.status,
          halted_reason: change.status === "halted"
            ? "halted by an admin"
            : change.status === "active"
            ? null
            : r.halted_reason,
          updated_at: now,
        }).where("id", "=", id).execute();
        return await rolloutView(await rolloutById(id));
      });
    },

    /** The release a host should run (the active rollout, when it reaches the host), or null. */
    async currentFor(host: { id: string; labels: Record<string, string> }, arch: string) {
      const r = await db.selectFrom("agent_rollouts").selectAll().where("status", "=", "active")
        .orderBy("created_at", "desc").executeTakeFirst();
      if (!r || !await reaches(r, host)) return null;
      const rel = await db.selectFrom("agent_releases").selectAll().where("id", "=", r.release_id)
        .executeTakeFirst();
      if (!rel || rel.status !== "ready" || !fileFor(parseManifest(rel.manifest), arch)) {
        return null;
      }
      return {
        version: rel.version,
        manifest: rel.manifest,
        signature: rel.signature,
        pinned: Boolean(r.pinned),
        rollout_id: r.id,
      };
    },

    /**
     * The newest release an unenrolled machine installs: that of the active rollout reaching all
     * hosts (100 %, no label), or of a halted one's predecessor never; null when none.
     */
    async forInstall(arch: string) {
      const r = await db.selectFrom("agent_rollouts").selectAll().where("status", "=", "active")
        .where("percent", "=", 100).where("label", "is", null).orderBy("created_at", "desc")
        .executeTakeFirst();
      if (!r) return null;
      const rel = await db.selectFrom("agent_releases").selectAll().where("id", "=", r.release_id)
        .executeTakeFirst();
      const file = rel && rel.status === "ready"
        ? fileFor(parseManifest(rel.manifest), arch)
        : undefined;
      return rel && file ? { version: rel.version, file } : null;
    },

    /** Records an agent's update outcome; halts its rollout when failures exceed the limits. */
    async recordOutcome(
      host: { id: string; org_id: string; name: string },
      report: OutcomeReport,
    ) {
      const now = clock.now();
      const rollout = report.rollout_id
        ? await db.selectFrom("agent_rollouts").selectAll().where("id", "=", report.rollout_id)
          .executeTakeFirst()
        : undefined;
      await audit.run(
        { actor: { type: "anonymous", name: `agent of ${host.name}` }, ip: null },
        "host.agent_update",
        {
          orgId: host.org_id,
          target: { type: "host", id: host.id, name: host.name },
          metadata: {
            outcome: report.outcome,
            from: report.from_version,
            to: report.to_version,
            message: report.message,
          },
        },
        async () => {
          await db.insertInto("agent_update_outcomes").values({
            id: uuidv7(now),
            host_id: host.id,
            rollout_id: rollout?.id ?? null,
            from_version: report.from_version,
            to_version: report.to_version,
            outcome: report.outcome,
            message: report.message,
            at: now,
          }).execute();
        },
      );
      if (!rollout || rollout.status !== "active") return { halted: false };
      const { failed } = await progress(rollout.id);
      let reached = 0;
      for (const h of await fleet()) if (await reaches(rollout, h)) reached++;
      const why = haltReason(rollout, failed, reached);
      if (!why) return { halted: false };
      await audit.run(SYSTEM, "agent_rollout.halted", {
        target: { type: "agent_rollout", id: rollout.id },
        metadata: { reason: why, version: report.to_version },
      }, async () => {
        await db.updateTable("agent_rollouts").set({
          status: "halted",
          halted_reason: why,
          updated_at: now,
        }).where("id", "=", rollout.id).where("status", "=", "active").execute();
      });
      return { halted: true, reason: why };
    },

    /** A host's latest update outcomes, newest first. */
    async outcomesFor(hostId: string, limit = 5) {
      return await db.selectFrom("agent_update_outcomes").selectAll().where("host_id", "=", hostId)
        .orderBy("at", "desc").limit(limit).execute();
    },

    /** A rollout by id, as the API shows it. */
    async rollout(id: string) {
      return await rolloutView(await rolloutById(id));
    },
  };
  return self;
}
export type Releases = ReturnType<typeof createReleases>;
