/**
 * Notification channels of an organization. The whole kind-specific config is encrypted at rest
 * (bound to the channel's id) and never leaves this module except to a sender; the API sees only
 * `channelSummary` hints. Targets are checked against the outbound policy on every write.
 */
import type { Db } from "../../db/mod.ts";
import type { AlertChannelsTable, Database } from "../../db/schema.ts";
import type { Transaction } from "kysely";
import type { Clock } from "../../util/clock.ts";
import type { ActionContext, AuditLog } from "../../audit/service.ts";
import type { SecretBox } from "../../crypto/secrets.ts";
import { uuidv7 } from "../../util/ids.ts";
import { Conflict, Invalid, NotFound } from "../../errors.ts";
import { issueFields } from "../zod_fields.ts";
import {
  type ChannelConfig,
  ChannelConfigs,
  type ChannelKind,
  channelSummary,
  SECRET_FIELDS,
} from "./config.ts";
import {
  checkHost,
  checkUrlSyntax,
  type OutboundPolicy,
  OutboundRefused,
} from "../../net/outbound.ts";

/** A channel as the API shows it. */
export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  secrets: Record<string, boolean>;
  hints: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

/** A channel row. */
export type ChannelRow = AlertChannelsTable;

function view(r: ChannelRow): ChannelView {
  const s = JSON.parse(r.summary);
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    enabled: r.enabled === 1,
    secrets: s.secrets,
    hints: s.hints,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

/** The context a channel's config is encrypted for: it opens only in its own row. */
export const channelContext = (id: string) => `alert_channel:${id}`;
const context = channelContext;

/** Channel CRUD with encryption and outbound checks. */
export function createChannelStore(deps: {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  box: () => Promise<SecretBox>;
  policy: OutboundPolicy;
}) {
  const { db, clock, audit } = deps;

  /** Parses and checks a config; 400 naming `config.<field>`. */
  async function validate(kind: ChannelKind, raw: unknown): Promise<ChannelConfig> {
    const parsed = ChannelConfigs[kind].safeParse(raw);
    if (!parsed.success) {
      const fields = Object.fromEntries(
        Object.entries(issueFields(parsed.error)).map(([k, v]) => [`config.${k}`, v]),
      );
      throw new Invalid(`Invalid channel config: ${Object.keys(fields).join(", ")}`, fields);
    }
    const cfg = parsed.data as ChannelConfig;
    try {
      if ("url" in cfg) {
        const url = checkUrlSyntax(cfg.url, deps.policy);
        await checkHostLenient(url.hostname);
      } else {
        if (cfg.username && cfg.security === "none") {
          throw new Invalid("Invalid channel config: config.security", {
            "config.security": "credentials need tls or starttls",
          });
        }
        await checkHostLenient(cfg.host);
      }
    } catch (err) {
      if (err instanceof OutboundRefused) {
        const field = "url" in cfg ? "config.url" : "config.host";
        throw new Invalid(err.message, { [field]: err.message });
      }
      throw err;
    }
    return cfg;
  }

  /** A name that does not resolve now is accepted (DNS may be down); every send checks again. */
  async function checkHostLenient(host: string) {
    try {
      await checkHost(host, deps.policy);
    } catch (err) {
      if (err instanceof OutboundRefused && err.message.startsWith("Cannot resolve")) return;
      throw err;
    }
  }

  async function nameTaken(orgId: string, name: string, exceptId?: string) {
    let q = db.selectFrom("alert_channels").select("id").where("org_id", "=", orgId)
      .where("name", "=", name);
    if (exceptId) q = q.where("id", "!=", exceptId);
    return Boolean(await q.executeTakeFirst());
  }

  async function row(orgId: string, id: string): Promise<ChannelRow> {
    const r = await db.selectFrom("alert_channels").selectAll().where("org_id", "=", orgId)
      .where("id", "=", id).executeTakeFirst();
    if (!r) throw new NotFound("channel not found");
    return r;
  }

  const self = {
    async list(orgId: string): Promise<ChannelView[]> {
      const rows = await db.selectFrom("alert_channels").selectAll().where("org_id", "=", orgId)
        .orderBy("name").limit(500).execute();
      return rows.map(view);
    },

    async get(orgId: string, id: string): Promise<ChannelView> {
      return view(await row(orgId, id));
    },

    /** The stored row (internal: delivery and tests). */
    row,

    /** Ids of an organization's channels (rule validation). */
    async ids(orgId: string): Promise<Set<string>> {
      const rows = await db.selectFrom("alert_channels").select("id").where("org_id", "=", orgId)
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    /** Decrypts a channel's config for a sender. Throws SecretDecryptError on a wrong key. */
    async open(r: ChannelRow): Promise<ChannelConfig> {
      return JSON.parse(await (await deps.box()).decrypt(r.config, context(r.id)));
    },

    async create(
      ctx: ActionContext,
      orgId: string,
      input: { name: string; kind: ChannelKind; enabled?: boolean; config: unknown },
    ): Promise<ChannelView> {
      return await audit.run(ctx, "channel.created", {
        orgId,
        target: { type: "channel", name: input.name },
        metadata: { kind: input.kind },
        after: (v) => ({ target: { type: "channel", id: v.id, name: v.name } }),
      }, async () => {
        const cfg = await validate(input.kind, input.config);
        if (await nameTaken(orgId, input.name)) {
          throw new Conflict(`Cannot create channel "${input.name}": name is already in use`);
        }
        const now = clock.now();
        const id = uuidv7(now);
        const r: ChannelRow = {
          id,
          org_id: orgId,
          name: input.name,
          kind: input.kind,
          enabled: input.enabled === false ? 0 : 1,
          config: await (await deps.box()).encrypt(JSON.stringify(cfg), context(id)),
          summary: JSON.stringify(channelSummary(input.kind, cfg)),
          created_at: now,
          updated_at: now,
        };
        await db.insertInto("alert_channels").values(r).execute();
        return view(r);
      });
    },

    /** Renames, enables/disables, or changes config fields; omitted secret fields keep their value. */
    async update(
      ctx: ActionContext,
      orgId: string,
      id: string,
      patch: { name?: string; enabled?: boolean; config?: Record<string, unknown> },
    ): Promise<ChannelView> {
      const current = await row(orgId, id);
      return await audit.run(ctx, "channel.updated", {
        orgId,
        target: { type: "channel", id, name: patch.name ?? current.name },
        metadata: {
          changed: [
            ...Object.keys(patch).filter((k) => k !== "config"),
            ...Object.keys(patch.config ?? {}).map((k) => `config.${k}`),
          ],
        },
      }, async () => {
        if (patch.name !== undefined && await nameTaken(orgId, patch.name, id)) {
          throw new Conflict(`Cannot rename channel to "${patch.name}": name is already in use`);
        }
        const set: Partial<ChannelRow> = { updated_at: clock.now() };
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
        if (patch.config) {
          const old = await self.open(current) as Record<string, unknown>;
          const merged: Record<string, unknown> = { ...old };
          for (const [k, v] of Object.entries(patch.config)) {
            // An omitted or empty secret keeps the stored one: the client never had it to send back.
            if (SECRET_FIELDS[current.kind].includes(k) && (v === undefined || v === "")) continue;
            merged[k] = v;
          }
          const cfg = await validate(current.kind, merged);
          set.config = await (await deps.box()).encrypt(JSON.stringify(cfg), context(id));
          set.summary = JSON.stringify(channelSummary(current.kind, cfg));
        }
        await db.updateTable("alert_channels").set(set).where("id", "=", id).execute();
        return view(await row(orgId, id));
      });
    },

    async remove(ctx: ActionContext, orgId: string, id: string): Promise<void> {
      const current = await row(orgId, id);
      await audit.run(ctx, "channel.deleted", {
        orgId,
        target: { type: "channel", id, name: current.name },
      }, async () => {
        await db.deleteFrom("alert_channels").where("id", "=", id).execute();
      });
    },

    /** Enabled channels a rule notifies: all of the organization's, or the listed ones. */
    async forRule(
      orgId: string,
      channels: "all" | string[],
      ex: Db | Transaction<Database> = db,
    ): Promise<ChannelRow[]> {
      if (Array.isArray(channels) && channels.length === 0) return [];
      // Inside the caller's transaction: on SQLite a query outside it would wait for it forever.
      let q = ex.selectFrom("alert_channels").selectAll().where("org_id", "=", orgId)
        .where("enabled", "=", 1);
      if (Array.isArray(channels)) q = q.where("id", "in", channels);
      return await q.execute();
    },
  };
  return self;
}

export type ChannelStore = ReturnType<typeof createChannelStore>;
