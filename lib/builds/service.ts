/**
 * The builds use cases: connecting a service to a Git repository (credentials encrypted, a deploy
 * key generated per app), the app's webhook (an unguessable URL and a secret shown once), builds
 * asked by hand or by a verified push, cancel and retry, logs and deliveries. Builds themselves
 * run on a worker through its agent (lib/builds/runner.ts); nothing here clones or builds.
 */
import { z } from "zod";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { SecretBox } from "../crypto/secrets.ts";
import type { EventBus } from "../events.ts";
import type { App } from "../apps/store.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import { Conflict, Forbidden, Invalid, NotFound, QuotaExceeded } from "../errors.ts";
import { base64url, uuidv7 } from "../util/ids.ts";
import { type Build, type BuildSource, type BuildStore, type Delivery } from "./store.ts";
import { BranchName, BuildFilePath, gitUrlSchema, SubDir } from "./source.ts";
import { generateDeployKey } from "./deploy_keys.ts";
import {
  deliveryMeta,
  detectProvider,
  type NormalizedDelivery,
  parseDelivery,
  verifyDelivery,
} from "./webhooks.ts";
import { gunzipText } from "./log_buffer.ts";
import type { BuildRunner } from "./runner.ts";
import { FAILURE_HINTS, type FailureClass } from "./failure.ts";

/** Who asks, in the builds module's terms. */
export interface BuildCaller {
  ctx: ActionContext;
  role: OrgRole;
  tokenScope?: TokenScope;
  platformAdmin: boolean;
}

/** Bad signatures a minute that disable a webhook, and for how long. */
export const BAD_SIGNATURE_LIMIT = 30;
export const DISABLE_MS = 5 * 60_000;

/** The source form, as the API and the pages send it. */
export function sourceInput(allowLocal: boolean) {
  return z.object({
    repo_url: gitUrlSchema({ allowLocal }),
    branch: BranchName.default("main"),
    subdir: SubDir.default(""),
    build_file: BuildFilePath.default(""),
    builder: z.enum(["auto", "dockerfile", "nix"]).default("auto"),
    build_args: z.record(
      z.string().regex(
        /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
        "build argument names: letters, digits, _",
      ),
      z.string().max(4096).refine((v) => !/[\0\r\n]/.test(v), "must be one line"),
    ).refine((r) => Object.keys(r).length <= 64, "at most 64 build arguments").default({}),
    target: z.string().regex(/^(?:[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})?$/, "must be a stage name")
      .default(""),
    auth: z.enum(["none", "token", "ssh"]).default("none"),
    /** Write-only; empty or absent keeps the stored one. */
    token: z.string().max(4096).refine((v) => !/[\0\r\n]/.test(v), "must be one line").optional(),
    username: z.string().max(200).regex(/^[^\0\r\n:]*$/, "must be one line without :").optional(),
    auto_deploy: z.boolean().default(true),
    build_tags: z.boolean().default(false),
  }).strict();
}
export type SourceInput = z.input<ReturnType<typeof sourceInput>>;

/** A source as anyone who may see the app sees it: never a credential. */
export interface SourceView {
  service: string;
  repo_url: string;
  branch: string;
  subdir: string;
  build_file: string;
  builder: BuildSource["builder"];
  build_args: Record<string, string>;
  target: string;
  auth: BuildSource["auth"];
  token_set: boolean;
  ssh_public_key: string | null;
  ssh_fingerprint: string | null;
  known_host_fingerprint: string | null;
  auto_deploy: boolean;
  build_tags: boolean;
  updated_at: number;
}

/** What the credentials blob holds (decrypted only to hand a build to its worker). */
export interface SourceCredentials {
  username?: string;
  token?: string;
  ssh_private_key?: string;
}

export const credentialsContext = (sourceId: string) => `build-source:${sourceId}`;
export const hookContext = (hookId: string) => `build-hook:${hookId}`;

/** A webhook's answer: the status and a small JSON body. */
export interface HookAnswer {
  status: 200 | 202 | 400 | 401 | 404 | 429;
  body: Record<string, unknown>;
}

export interface BuildsDeps {
  store: BuildStore;
  box: () => Promise<SecretBox>;
  audit: Pick<AuditLog, "run" | "record">;
  clock: Clock;
  log: Logger;
  events: EventBus;
  runner: BuildRunner;
  /** The app a build or webhook belongs to. */
  app(orgId: string, appId: string): Promise<App | undefined>;
  /** The worker host a new build of this app runs on (undefined: no cluster or no worker up). */
  pickWorker(): Promise<string | undefined>;
  /** Quota admission (lib/quotas): build minutes this month, judged as a build is queued. */
  admission?: {
    prepare(orgId: string): Promise<
      (use: { build_minutes_month: number }, adds: { build_minutes_month: number }) => void
    >;
  };
}

function sourceView(s: BuildSource): SourceView {
  return {
    service: s.service,
    repo_url: s.repo_url,
    branch: s.branch,
    subdir: s.subdir,
    build_file: s.build_file,
    builder: s.builder,
    build_args: JSON.parse(s.build_args),
    target: s.target,
    auth: s.auth,
    token_set: s.auth === "token",
    ssh_public_key: s.ssh_public_key,
    ssh_fingerprint: s.ssh_fingerprint,
    known_host_fingerprint: s.known_host_fingerprint,
    auto_deploy: s.auto_deploy === 1,
    build_tags: s.build_tags === 1,
    updated_at: s.updated_at,
  };
}

/** A build's hint for its failure class (none for builds that did not fail). */
export function failureHint(b: Pick<Build, "failure">): string | null {
  return b.failure ? FAILURE_HINTS[b.failure as FailureClass] ?? FAILURE_HINTS.build_failed : null;
}

function assertOperate(caller: BuildCaller) {
  if (caller.tokenScope === "read") {
    throw new Forbidden("This token is read-only", undefined, "insufficient_scope");
  }
}

export function createBuilds(deps: BuildsDeps) {
  const { store, clock } = deps;

  const audited = <T>(
    caller: { ctx: ActionContext },
    action: string,
    app: App,
    metadata: Record<string, unknown>,
    fn: () => Promise<T>,
  ) =>
    deps.audit.run(caller.ctx, action, {
      orgId: app.org_id,
      target: { type: "app", id: app.id, name: app.name },
      metadata,
    }, fn);

  function serviceOf(app: App, service: string) {
    if (!app.spec.services.some((s) => s.name === service)) {
      throw new NotFound(`App "${app.name}" has no service "${service}"`);
    }
  }

  async function credentials(s: BuildSource): Promise<SourceCredentials> {
    const box = await deps.box();
    return JSON.parse(await box.decrypt(s.credentials, credentialsContext(s.id)));
  }

  /** Makes sure the app has a webhook; answers its secret when it was made now (shown once). */
  async function ensureHook(app: App): Promise<string | undefined> {
    if (await store.hookOfApp(app.id)) return undefined;
    return await newHookSecret(app, undefined);
  }

  async function newHookSecret(app: App, hookId: string | undefined): Promise<string> {
    const id = hookId ?? base64url(crypto.getRandomValues(new Uint8Array(18)));
    const secret = base64url(crypto.getRandomValues(new Uint8Array(24)));
    const box = await deps.box();
    const now = clock.now();
    await store.saveHook({
      id,
      org_id: app.org_id,
      app_id: app.id,
      secret: await box.encrypt(secret, hookContext(id)),
      secret_key_id: box.keyId,
      created_at: now,
      rotated_at: now,
      bad_count: 0,
      bad_window_at: 0,
      disabled_until: null,
    });
    return secret;
  }

  async function enqueue(
    app: App,
    source: BuildSource,
    how: {
      trigger: Build["trigger"];
      ctx: ActionContext;
      commit?: string | null;
      author?: string | null;
      message?: string | null;
      delivery?: string | null;
      deploy?: boolean;
    },
  ): Promise<Build> {
    const host = await deps.pickWorker();
    const gate = await deps.admission?.prepare(app.org_id);
    const b = await store.enqueue({
      org_id: app.org_id,
      app_id: app.id,
      service: source.service,
      trigger: how.trigger,
      actor_id: how.ctx.actor.id ?? null,
      actor_name: how.ctx.actor.name ?? how.ctx.actor.type,
      delivery_id: how.delivery ?? null,
      repo_url: source.repo_url,
      branch: source.branch,
      commit_sha: how.commit ?? null,
      commit_author: how.author ?? null,
      commit_message: how.message ?? null,
      host_id: host ?? null,
      deploy: (how.deploy ?? source.auto_deploy === 1) ? 1 : 0,
    }, gate);
    deps.runner.kick();
    return b;
  }

  return {
    store,
    credentials,

    /** The sources of an app's services. */
    async sources(app: App): Promise<SourceView[]> {
      return (await store.sources(app.id)).map(sourceView);
    },

    async source(app: App, service: string): Promise<SourceView> {
      const s = await store.source(app.id, service);
      if (!s) throw new NotFound(`Service "${service}" of app "${app.name}" has no Git source`);
      return sourceView(s);
    },

    /**
     * Connects (or changes) a service's Git source. A deploy key is generated the first time SSH
     * is chosen; a token is kept unless a new one is given. Answers the webhook's secret when the
     * app's webhook was made now (shown once).
     */
    async connect(
      caller: BuildCaller,
      app: App,
      service: string,
      input: unknown,
    ): Promise<{ source: SourceView; webhook_secret?: string }> {
      assertOperate(caller);
      serviceOf(app, service);
      const admin = caller.platformAdmin || caller.role === "owner" || caller.role === "admin";
      const parsed = sourceInput(caller.platformAdmin).safeParse(input ?? {});
      if (!parsed.success) {
        const fields: Record<string, string> = {};
        for (const i of parsed.error.issues) fields[i.path.join(".") || "body"] ??= i.message;
        throw new Invalid(`Invalid input: ${Object.keys(fields).join(", ")}`, fields);
      }
      const v = parsed.data;
      const old = await store.source(app.id, service);
      const creds: SourceCredentials = old ? await credentials(old) : {};
      let sshPublic = old?.ssh_public_key ?? null;
      let sshFingerprint = old?.ssh_fingerprint ?? null;
      if (v.auth === "token") {
        if (v.token) creds.token = v.token;
        if (v.username !== undefined) creds.username = v.username || undefined;
        if (!creds.token) {
          throw new Invalid("Invalid input: token", { token: "give the access token" });
        }
      } else delete creds.token;
      if (v.auth === "ssh" && !creds.ssh_private_key) {
        const key = await generateDeployKey(`capstan-${app.name}`);
        creds.ssh_private_key = key.privateKey;
        sshPublic = key.publicKey;
        sshFingerprint = key.fingerprint;
      }
      // A changed repository host may have another host key: pin again on the next clone.
      const sameHost = old && hostOf(old.repo_url) === hostOf(v.repo_url);
      const id = old?.id ?? uuidv7(clock.now());
      const box = await deps.box();
      const now = clock.now();
      return await audited(caller, old ? "build_source.updated" : "build_source.connected", app, {
        service,
        repo_url: v.repo_url,
        branch: v.branch,
        auth: v.auth,
        token_changed: Boolean(v.token),
        admin,
      }, async () => {
        const saved = await store.saveSource({
          id,
          org_id: app.org_id,
          app_id: app.id,
          service,
          repo_url: v.repo_url,
          branch: v.branch,
          subdir: v.subdir,
          build_file: v.build_file,
          builder: v.builder,
          build_args: JSON.stringify(v.build_args),
          target: v.target,
          auth: v.auth,
          credentials: await box.encrypt(JSON.stringify(creds), credentialsContext(id)),
          credentials_key_id: box.keyId,
          ssh_public_key: sshPublic,
          ssh_fingerprint: sshFingerprint,
          known_host: sameHost ? old.known_host : null,
          known_host_fingerprint: sameHost ? old.known_host_fingerprint : null,
          auto_deploy: v.auto_deploy ? 1 : 0,
          build_tags: v.build_tags ? 1 : 0,
          created_by: old?.created_by ?? caller.ctx.actor.id ?? null,
          created_at: old?.created_at ?? now,
          updated_at: now,
        });
        const secret = await ensureHook(app);
        return { source: sourceView(saved), ...(secret ? { webhook_secret: secret } : {}) };
      });
    },

    /** Disconnects a service from its repository (its builds stay in the history). */
    async disconnect(caller: BuildCaller, app: App, service: string): Promise<void> {
      assertOperate(caller);
      await audited(caller, "build_source.disconnected", app, { service }, async () => {
        if (!(await store.removeSource(app.id, service))) {
          throw new NotFound(`Service "${service}" of app "${app.name}" has no Git source`);
        }
      });
    },

    /** The app's webhook: its id (the URL's last segment) and state; never its secret. */
    async hook(app: App) {
      const h = await store.hookOfApp(app.id);
      if (!h) return undefined;
      const now = clock.now();
      return {
        id: h.id,
        rotated_at: h.rotated_at,
        disabled_until: h.disabled_until !== null && h.disabled_until > now
          ? h.disabled_until
          : null,
      };
    },

    /** A new webhook secret (the old one stops working at once); shown once. */
    async rotateWebhookSecret(caller: BuildCaller, app: App): Promise<{ secret: string }> {
      assertOperate(caller);
      return await audited(caller, "build_webhook.rotated", app, {}, async () => {
        const h = await store.hookOfApp(app.id);
        if (!h && !(await store.sources(app.id)).length) {
          throw new Conflict(`App "${app.name}" has no Git source, so no webhook`, "no_source");
        }
        return { secret: await newHookSecret(app, h?.id) };
      });
    },

    /** Queues a build of a service's source (its branch head, or the commit given). */
    async trigger(
      caller: BuildCaller,
      app: App,
      service: string,
      opts: { commit?: string; deploy?: boolean } = {},
    ): Promise<Build> {
      assertOperate(caller);
      const source = await store.source(app.id, service);
      if (!source) {
        throw new NotFound(`Service "${service}" of app "${app.name}" has no Git source`);
      }
      return await audited(caller, "build.started", app, {
        service,
        commit: opts.commit ?? null,
        trigger: "manual",
      }, () => enqueue(app, source, { trigger: "manual", ctx: caller.ctx, ...opts }));
    },

    /** Builds a failed or cancelled build's commit again. */
    async retry(caller: BuildCaller, app: App, build: Build): Promise<Build> {
      assertOperate(caller);
      if (build.state === "queued" || build.state === "running") {
        throw new Conflict(`Build #${build.number} has not ended`, "build_running");
      }
      const source = await store.source(app.id, build.service);
      if (!source) {
        throw new NotFound(`Service "${build.service}" of app "${app.name}" has no Git source`);
      }
      return await audited(caller, "build.started", app, {
        service: build.service,
        retry_of: build.number,
        commit: build.commit_sha,
        trigger: "retry",
      }, () =>
        enqueue(app, source, {
          trigger: "retry",
          ctx: caller.ctx,
          commit: build.commit_sha,
          author: build.commit_author,
          message: build.commit_message,
          deploy: build.deploy === 1,
        }));
    },

    /** Cancels a queued or running build (the worker kills the clone or the build). */
    async cancel(caller: BuildCaller, app: App, build: Build): Promise<void> {
      assertOperate(caller);
      if (build.state !== "queued" && build.state !== "running") {
        throw new Conflict(`Build #${build.number} has already ended (${build.state})`, "ended");
      }
      await audited(caller, "build.cancelled", app, { build: build.number }, async () => {
        await store.requestCancel(build.id);
        if (build.state === "queued") {
          await store.finish(build.id, "cancelled", {
            failure: "cancelled",
            error: "Cancelled before it started",
          });
        }
        deps.runner.cancel(build.id);
      });
    },

    async builds(app: App, opts: { before?: number; limit: number }) {
      return await store.list(app.id, opts);
    },

    async build(app: App, number: number): Promise<Build> {
      const b = await store.byNumber(app.id, number);
      if (!b) throw new NotFound(`App "${app.name}" has no build #${number}`);
      return b;
    },

    /** Where a queued build stands in its worker's queue (0: next). */
    position: (b: Build) => store.position(b),

    /** A build's log text: the live tail while it runs in this process, else the stored one. */
    async logText(b: Build): Promise<{ text: string; dropped_bytes: number }> {
      const live = deps.runner.liveLog(b.id);
      if (live) return live;
      const row = await store.log(b.id);
      return { text: row ? await gunzipText(row.gz) : "", dropped_bytes: row?.dropped_bytes ?? 0 };
    },

    async deliveries(app: App, opts: { before?: string; limit: number }): Promise<Delivery[]> {
      return await store.deliveries(app.id, opts);
    },

    /** Delivers a stored good push again (a new build of the commit it named). */
    async redeliver(caller: BuildCaller, app: App, deliveryId: string): Promise<Build> {
      assertOperate(caller);
      const d = await store.delivery(app.id, deliveryId);
      if (!d) throw new NotFound("No such delivery");
      if (!d.push) {
        throw new Conflict("Only a verified push can be delivered again", "not_redeliverable");
      }
      const push = JSON.parse(d.push) as Extract<NormalizedDelivery, { kind: "push" }>;
      const sources = (await store.sources(app.id)).filter((s) => s.branch === push.branch);
      if (!sources.length) {
        throw new Conflict(
          `No service of app "${app.name}" builds ${push.branch} now`,
          "no_source",
        );
      }
      return await audited(caller, "build.started", app, {
        redelivery_of: d.id,
        commit: push.commit,
        trigger: "webhook",
      }, async () => {
        let first: Build | undefined;
        for (const s of sources) {
          const b = await enqueue(app, s, {
            trigger: "webhook",
            ctx: caller.ctx,
            commit: push.commit,
            author: push.author,
            message: push.message,
          });
          first ??= b;
        }
        return first!;
      });
    },

    /**
     * A webhook delivery. The signature is checked on the raw bytes before anything is parsed;
     * a bad one is counted (30 a minute disable the hook for 5 minutes and tell the org) and
     * audited without the body. A verified push to a branch a service builds queues its build.
     */
    async receive(hookId: string, headers: Headers, body: Uint8Array): Promise<HookAnswer> {
      const hook = /^[A-Za-z0-9_-]{16,64}$/.test(hookId) ? await store.hook(hookId) : undefined;
      if (!hook) return { status: 404, body: { error: "not_found" } };
      const now = clock.now();
      if (hook.disabled_until !== null && hook.disabled_until > now) {
        return {
          status: 429,
          body: {
            error: "webhook_disabled",
            message: "Too many bad signatures; this webhook is disabled for a while",
            retry_after_s: Math.ceil((hook.disabled_until - now) / 1000),
          },
        };
      }
      const app = await deps.app(hook.org_id, hook.app_id);
      if (!app) return { status: 404, body: { error: "not_found" } };
      const provider = detectProvider(headers);
      if (!provider) {
        return {
          status: 400,
          body: {
            error: "unknown_provider",
            message: "No GitHub, GitLab, Bitbucket or Gitea headers",
          },
        };
      }
      const box = await deps.box();
      const secret = await box.decrypt(hook.secret, hookContext(hook.id));
      const verdict = await verifyDelivery(provider, headers, body, secret);
      const meta = deliveryMeta(provider, headers);
      const system: ActionContext = { actor: { type: "system", name: `${provider} webhook` } };
      if (!verdict.ok) {
        const { disabled } = await store.noteBadSignature(hook, BAD_SIGNATURE_LIMIT, DISABLE_MS);
        await store.recordDelivery({
          hook_id: hook.id,
          org_id: app.org_id,
          app_id: app.id,
          provider,
          event: meta.event ?? "",
          delivery_id: null,
          branch: null,
          commit_sha: null,
          outcome: "bad_signature",
          reason: verdict.reason === "missing_signature"
            ? "no signature header"
            : "the signature does not match the secret",
          build_id: null,
          push: null,
        });
        await deps.audit.record({
          ctx: system,
          action: "build_webhook.rejected",
          orgId: app.org_id,
          target: { type: "app", id: app.id, name: app.name },
          status: "error",
          error: verdict.reason,
          durationMs: 0,
          metadata: { provider, event: meta.event ?? null, delivery: meta.deliveryId ?? null },
        });
        if (disabled) {
          deps.events.emit("builds.webhook_disabled", {
            org_id: app.org_id,
            app: { id: app.id, name: app.name },
            since: now,
            until: now + DISABLE_MS,
            bad_signatures: BAD_SIGNATURE_LIMIT,
          });
        }
        return { status: 401, body: { error: verdict.reason } };
      }
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(body));
      } catch {
        return { status: 400, body: { error: "bad_json", message: "The body is not JSON" } };
      }
      const parsed = parseDelivery(provider, meta.event ?? "", json);
      const base = {
        hook_id: hook.id,
        org_id: app.org_id,
        app_id: app.id,
        provider,
        event: meta.event ?? "",
        delivery_id: meta.deliveryId ?? null,
        build_id: null,
      };
      if (parsed.kind !== "push") {
        const { duplicate } = await store.recordDelivery({
          ...base,
          branch: null,
          commit_sha: null,
          outcome: parsed.kind === "ping" ? "ping" : "ignored",
          reason: parsed.kind === "ping" ? "ping" : parsed.reason,
          push: null,
        });
        return { status: 200, body: { outcome: duplicate ? "duplicate" : parsed.kind } };
      }
      const { delivery, duplicate } = await store.recordDelivery({
        ...base,
        branch: parsed.branch ?? parsed.tag ?? null,
        commit_sha: parsed.commit,
        outcome: "queued",
        reason: "",
        push: JSON.stringify(parsed),
      });
      if (duplicate) return { status: 200, body: { outcome: "duplicate" } };
      const skip = async (reason: string) => {
        await store.setDeliveryOutcome(delivery.id, "skipped", reason, null);
        return { status: 202 as const, body: { outcome: "skipped", reason } };
      };
      if (parsed.deleted) return await skip(`${parsed.ref} was deleted`);
      const all = await store.sources(app.id);
      const branch = parsed.branch;
      const sources = all.filter((s) =>
        parsed.tag !== undefined ? s.build_tags === 1 : s.branch === branch
      );
      if (parsed.tag !== undefined && !sources.length) {
        return await skip(`tag ${parsed.tag}: tags do not build`);
      }
      if (!sources.length) {
        const wanted = [...new Set(all.map((s) => s.branch))];
        return await skip(
          `push to ${branch ?? parsed.ref}; the app builds ${wanted.join(", ") || "no branch"}`,
        );
      }
      const builds: Build[] = [];
      const refused: string[] = [];
      for (const s of sources) {
        // Over the org's build minutes (or blocked), a push is recorded as skipped, not failed.
        const queued = await deps.audit.run(system, "build.started", {
          orgId: app.org_id,
          target: { type: "app", id: app.id, name: app.name },
          metadata: {
            service: s.service,
            trigger: "webhook",
            provider,
            delivery: meta.deliveryId ?? null,
            commit: parsed.commit,
          },
        }, () =>
          enqueue(app, s, {
            trigger: "webhook",
            ctx: system,
            commit: parsed.commit,
            author: parsed.author ?? null,
            message: parsed.message ?? null,
            delivery: delivery.id,
          })).catch((err) => {
            if (err instanceof QuotaExceeded) return err.message;
            throw err;
          });
        if (typeof queued === "string") refused.push(queued);
        else builds.push(queued);
      }
      if (!builds.length) return await skip(refused.join("; "));
      await store.setDeliveryOutcome(
        delivery.id,
        "queued",
        builds.map((b) => `build #${b.number} (${b.service})`).join(", "),
        builds[0].id,
      );
      return {
        status: 202,
        body: { outcome: "queued", builds: builds.map((b) => ({ id: b.id, number: b.number })) },
      };
    },
  };
}

/** The host part of a Git URL (https, ssh or scp-like), for "same host, same host key". */
function hostOf(url: string): string {
  const scp = /^[^@/]+@([^:/]+):/.exec(url);
  if (scp) return scp[1];
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export type Builds = ReturnType<typeof createBuilds>;
