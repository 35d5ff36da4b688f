/**
 * Templates, as users act on them: the catalog (built-ins and the organization's own, with how
 * often each was used), organization templates saved from YAML (problems by line), provisioning
 * (a template's variables, a name and a domain → secrets, an app deployed in dependency order, a
 * route checked) and deprovisioning (the route, the app, the template's secrets, and the volumes
 * only when asked).
 *
 * Provisioning answers at once, after every check that can be made before anything is created
 * (the template, the name, the values, the domain, the secrets' names); the steps then run in the
 * background and report on the provisioning's realtime topic. A step that fails takes back what
 * the earlier steps created, in reverse order, and the provisioning keeps which step failed and
 * why: nothing is left half-made without being shown.
 */
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../log.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import {
  Conflict,
  DomainError,
  Forbidden,
  Invalid,
  invalidFields,
  invalidInput,
  NotFound,
} from "../errors.ts";
import { AppName, AppSpec } from "../apps/spec.ts";
import type { Apps } from "../apps/service.ts";
import type { App } from "../apps/store.ts";
import type { Proxy } from "../proxy/service.ts";
import type { ProxyStore } from "../proxy/store.ts";
import { Hostname } from "../proxy/spec.ts";
import type { Secrets } from "../secrets/service.ts";
import { parseTemplate, type Template, type TemplateProblem } from "./format.ts";
import { renderTemplate, resolveValues, type VariableInput } from "./render.ts";
import type { Created, OrgTemplate, Provision, ProvisionStep, TemplateStore } from "./store.ts";

/** Who acts on templates. */
export interface TemplateCaller {
  ctx: ActionContext;
  orgId: string;
  role: OrgRole;
  tokenScope?: TokenScope;
  platformAdmin: boolean;
}

/** A template as the catalog lists it. */
export interface CatalogEntry {
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  icon: string | null;
  version: string;
  source: "builtin" | "org";
  /** Provisionings in this organization, and the last one's time. */
  used: number;
  last_used: number | null;
}

export interface TemplatesDeps {
  store: TemplateStore;
  builtins(): Promise<{ template: Template; source: string }[]>;
  apps: Apps;
  proxy: Proxy;
  proxyStore: ProxyStore;
  secrets: Secrets;
  audit: Pick<AuditLog, "run">;
  clock: Clock;
  log: Logger;
  /** Publishes a provisioning's progress (its realtime topic). */
  progress(p: Provision): void;
  /** Image references replaced before deploying (stand-ins where no registry is reachable). */
  images?: Record<string, string>;
  /** How long the first deployment may take. */
  deployTimeoutMs?: number;
}

/** Problems of a template's YAML as field errors: `source` with the line, column and path. */
function sourceInvalid(problems: TemplateProblem[]): Invalid {
  const fields: Record<string, string> = {};
  for (const p of problems) {
    fields[`source:${p.line}:${p.column}`] = p.path ? `${p.path}: ${p.message}` : p.message;
  }
  return new Invalid(
    `The template has ${problems.length} problem${problems.length === 1 ? "" : "s"}: ` +
      problems.slice(0, 3).map((p) => `line ${p.line}: ${p.path ? `${p.path}: ` : ""}${p.message}`)
        .join("; "),
    fields,
  );
}

const entryOf = (
  t: Template,
  source: "builtin" | "org",
  usage: Map<string, { count: number; last: number }>,
): CatalogEntry => ({
  id: t.id,
  name: t.name,
  description: t.description,
  category: t.category,
  tags: t.tags,
  icon: t.icon ?? null,
  version: t.version,
  source,
  used: usage.get(t.id)?.count ?? 0,
  last_used: usage.get(t.id)?.last ?? null,
});

/** Creates the templates service. */
export function createTemplates(deps: TemplatesDeps) {
  const { store } = deps;
  const inFlight = new Set<Promise<unknown>>();
  const deployTimeoutMs = deps.deployTimeoutMs ?? 6 * 60_000;

  function assertWrite(caller: TemplateCaller) {
    if (caller.tokenScope === "read") {
      throw new Forbidden("This token has read scope; this needs write scope");
    }
  }

  /** A template by id: the organization's own, else a built-in. */
  async function find(
    orgId: string,
    id: string,
  ): Promise<{ template: Template; source: "builtin" | "org"; row?: OrgTemplate; yaml: string }> {
    const own = await store.get(orgId, id);
    if (own) {
      const r = parseTemplate(own.source);
      if (!r.template) throw new Conflict(`Template ${id} no longer parses; edit it first`);
      return { template: r.template, source: "org", row: own, yaml: own.source };
    }
    const builtin = (await deps.builtins()).find((b) => b.template.id === id);
    if (!builtin) throw new NotFound(`No template ${id}`);
    return { template: builtin.template, source: "builtin", yaml: builtin.source };
  }

  /** Runs the steps of a provisioning; each failure takes back what was made, newest first. */
  async function run(
    caller: TemplateCaller,
    p: Provision,
    plan: ReturnType<typeof renderTemplate>["rendered"],
  ): Promise<void> {
    const steps: ProvisionStep[] = [];
    const created: Created = { secrets: [], volumes: plan.volumes };
    let app: App | undefined;
    const step = async (name: string, message?: string) => {
      steps.push({ step: name, status: "running", message, at: deps.clock.now() });
      p = await store.update(p, { step: name, steps, created });
      deps.progress(p);
    };
    const done = async (message?: string) => {
      const s = steps.at(-1)!;
      s.status = "done";
      if (message) s.message = message;
      p = await store.update(p, { steps, created, app_id: app?.id ?? null });
      deps.progress(p);
    };
    const secretCaller = { ctx: caller.ctx, orgId: caller.orgId };
    try {
      await step("secrets", `${plan.secrets.length} to create`);
      for (const s of plan.secrets) {
        await deps.secrets.create(secretCaller, {
          name: s.name,
          description: `Made by template ${p.template_id} for ${p.app_name} (${s.from})`,
          value: s.value,
        });
        created.secrets.push(s.name);
      }
      await done();

      await step("app", `${plan.spec.services.length} services, in dependency order`);
      const made = await deps.apps.create(
        { ctx: caller.ctx, role: caller.role, tokenScope: caller.tokenScope },
        caller.orgId,
        { name: p.app_name, spec: plan.spec },
      );
      app = made.app;
      await done(`deployment #${made.deployment?.number ?? 1} started`);

      await step("deploy", "each service waits for what it depends on to be healthy");
      const deadline = deps.clock.now() + deployTimeoutMs;
      for (;;) {
        const [d] = await deps.apps.store.deployments(app, { limit: 1 });
        if (d?.status === "running") break;
        if (d && ["failed", "rolled_back"].includes(d.status)) {
          throw new Error(d.reason ?? `deployment #${d.number} ${d.status}`);
        }
        if (deps.clock.now() > deadline) throw new Error("the services did not come up in time");
        await new Promise((r) => setTimeout(r, 500));
      }
      await done("every service is running and healthy");

      if (p.domain && plan.route) {
        await step("route", p.domain);
        const r = await deps.proxy.create({
          ctx: caller.ctx,
          orgId: caller.orgId,
          tokenScope: caller.tokenScope,
          platformAdmin: caller.platformAdmin,
        }, {
          hostnames: [p.domain],
          target: {
            kind: "app",
            app: p.app_name,
            service: plan.route.service,
            port: plan.route.port,
          },
          ...(plan.route.path !== "/" ? { path_prefix: plan.route.path } : {}),
        });
        created.route_id = r.route.id;
        if (!r.applied.ok) throw new Error(`the proxy refused the route: ${r.applied.error}`);
        await done();
        await step("check", "DNS and certificate");
        await deps.proxy.checkDns(r.route);
        const domains = await deps.proxyStore.domains([r.route.id]);
        await done(
          domains.map((d) => `${d.hostname}: DNS ${d.dns_status}, TLS ${d.tls_state}`)
            .join("; "),
        );
      }
      p = await store.update(p, { status: "ready", step: "ready", steps, created });
      deps.progress(p);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const failed = steps.at(-1);
      if (failed) {
        failed.status = "failed";
        failed.message = reason;
      }
      deps.log.warn("templates: provisioning failed", {
        provision: p.id,
        step: failed?.step,
        error: reason,
      });
      p = await store.update(p, { status: "provisioning", step: "rolling back", steps, created });
      deps.progress(p);
      await undo(caller, created, app, steps);
      p = await store.update(p, {
        status: "failed",
        step: failed?.step ?? "starting",
        error: `${failed?.step ?? "starting"}: ${reason}`,
        steps,
        created,
        app_id: null,
      });
      deps.progress(p);
    }
  }

  /** Takes back what a provisioning made, newest first; each part noted as undone. */
  async function undo(
    caller: TemplateCaller,
    created: Created,
    app: App | undefined,
    steps: ProvisionStep[],
  ) {
    const note = (step: string, message: string) =>
      steps.push({ step, status: "undone", message, at: deps.clock.now() });
    if (created.route_id) {
      const route = await deps.proxyStore.get(caller.orgId, created.route_id).catch(() =>
        undefined
      );
      if (route) {
        await deps.proxy.remove({
          ctx: caller.ctx,
          orgId: caller.orgId,
          tokenScope: caller.tokenScope,
          platformAdmin: caller.platformAdmin,
        }, route).then(
          () => note("route", "route removed"),
          (e) => note("route", `route not removed: ${String(e)}`),
        );
      }
    }
    if (app) {
      await deps.apps.idle();
      await deps.apps.remove(
        { ctx: caller.ctx, role: caller.role, tokenScope: caller.tokenScope },
        app,
        { volumes: true },
      ).then(
        () => note("app", "app, its services and its new volumes removed"),
        (e) => note("app", `app not removed: ${String(e)}`),
      );
    }
    for (const name of [...created.secrets].reverse()) {
      await deps.secrets.remove({ ctx: caller.ctx, orgId: caller.orgId }, name).then(
        () => note("secrets", `${name} deleted`),
        (e) => note("secrets", `${name} not deleted: ${String(e)}`),
      );
    }
  }

  return {
    store,

    /** Built-ins and the organization's templates, filtered; most used first, then by name. */
    async catalog(
      orgId: string,
      f: { category?: string; search?: string } = {},
    ): Promise<CatalogEntry[]> {
      const usage = await store.usage(orgId);
      const entries: CatalogEntry[] = [];
      const own = await store.list(orgId);
      for (const row of own) {
        const r = parseTemplate(row.source);
        if (r.template) entries.push(entryOf(r.template, "org", usage));
      }
      for (const b of await deps.builtins()) entries.push(entryOf(b.template, "builtin", usage));
      const q = f.search?.toLowerCase();
      return entries.filter((e) =>
        (!f.category || e.category === f.category) &&
        (!q || [e.id, e.name, e.description, ...e.tags].some((s) => s.toLowerCase().includes(q)))
      ).sort((a, b) => b.used - a.used || a.name.localeCompare(b.name));
    },

    /** One template with its YAML source. */
    async get(orgId: string, id: string) {
      const f = await find(orgId, id);
      const usage = await store.usage(orgId);
      return { ...entryOf(f.template, f.source, usage), template: f.template, yaml: f.yaml };
    },

    /** Checks YAML without saving (the editor's preview): the template or its problems. */
    check(source: string) {
      return parseTemplate(source);
    },

    /** Saves an organization template (create, or replace the one with the same id). */
    async save(caller: TemplateCaller, source: unknown, replacing?: string): Promise<OrgTemplate> {
      assertWrite(caller);
      if (typeof source !== "string") {
        throw invalidFields({ source: "must be the template's YAML" });
      }
      const r = parseTemplate(source);
      if (!r.template) throw sourceInvalid(r.problems);
      const t = r.template;
      if ((await deps.builtins()).some((b) => b.template.id === t.id)) {
        throw new Conflict(`${t.id} is a built-in template's id; choose another`, "conflict", {
          source: `id ${t.id} is a built-in's`,
        });
      }
      const old = replacing ? await store.get(caller.orgId, replacing) : undefined;
      if (replacing && !old) throw new NotFound(`No template ${replacing}`);
      if (old && old.template_id !== t.id) {
        throw invalidFields({ source: `the id must stay ${old.template_id}` });
      }
      return await deps.audit.run(caller.ctx, old ? "template.update" : "template.create", {
        orgId: caller.orgId,
        target: { type: "template", name: t.id },
        metadata: { version: t.version },
      }, () =>
        store.save(
          caller.orgId,
          {
            template_id: t.id,
            name: t.name,
            category: t.category,
            version: t.version,
            source,
          },
          caller.ctx.actor.id ?? null,
          old,
        ));
    },

    /** Deletes an organization template; refused while an app made from it exists. */
    async remove(caller: TemplateCaller, id: string): Promise<void> {
      assertWrite(caller);
      const row = await store.get(caller.orgId, id);
      if (!row) {
        if ((await deps.builtins()).some((b) => b.template.id === id)) {
          throw new Forbidden("Built-in templates are read-only");
        }
        throw new NotFound(`No template ${id}`);
      }
      await deps.audit.run(caller.ctx, "template.delete", {
        orgId: caller.orgId,
        target: { type: "template", id: row.id, name: id },
      }, async () => {
        const apps = await store.appsFrom(caller.orgId, id);
        if (apps.length) {
          throw new Conflict(
            `Template ${id} is used by ${apps.join(", ")}; deprovision ${
              apps.length === 1 ? "that app" : "those apps"
            } first`,
            "template_in_use",
          );
        }
        await store.remove(row);
      });
    },

    /**
     * Provisions a template: every check first (400 naming `name`, `domain` or
     * `variables.<name>`; 409 for a taken name, domain or secret name), then the steps in the
     * background. Answers the provisioning (follow it by id or on its topic).
     */
    async deploy(
      caller: TemplateCaller,
      id: string,
      input: { name?: unknown; domain?: unknown; values?: unknown },
    ): Promise<Provision> {
      assertWrite(caller);
      const f = await find(caller.orgId, id);
      const fields: Record<string, string> = {};
      const name = AppName.safeParse(input.name);
      if (!name.success) fields.name = name.error.issues[0].message;
      let domain: string | null = null;
      if (input.domain !== undefined && input.domain !== null && input.domain !== "") {
        const d = Hostname.safeParse(
          typeof input.domain === "string" ? input.domain.toLowerCase() : input.domain,
        );
        if (!d.success || d.data.startsWith("*.")) {
          fields.domain = "must be a hostname like shop.example.com";
        } else domain = d.data;
      }
      const given = input.values ?? {};
      if (typeof given !== "object" || Array.isArray(given)) {
        fields.values = "must be an object of variable values";
      }
      const { values, problems } = resolveValues(
        f.template,
        (typeof given === "object" && given && !Array.isArray(given) ? given : {}) as Record<
          string,
          VariableInput
        >,
      );
      Object.assign(fields, problems);
      if (Object.keys(fields).length) throw invalidFields(fields);
      const appName = name.data!;
      const { rendered, problems: renderProblems } = renderTemplate(f.template, appName, values, {
        images: deps.images,
      });
      if (Object.keys(renderProblems).length) {
        throw new Invalid(`Template ${id} cannot be rendered`, renderProblems);
      }
      // The spec it makes (an image given as a variable, say) is checked before anything is made.
      const spec = AppSpec.safeParse(rendered.spec);
      if (!spec.success) throw invalidInput(spec.error, "spec");
      if (domain && !rendered.route) {
        throw invalidFields({ domain: "this template has no route for a domain" });
      }
      // What would collide, before anything is made.
      if (await deps.apps.store.get(caller.orgId, appName).catch(() => undefined)) {
        throw new Conflict(`An app named ${appName} already exists`, "conflict", {
          name: "is taken in this organization",
        });
      }
      const taken = (await deps.secrets.resolve(caller.orgId, rendered.secrets.map((s) => s.name)))
        .secrets;
      if (Object.keys(taken).length) {
        throw new Conflict(
          `Secret${Object.keys(taken).length > 1 ? "s" : ""} ${
            Object.keys(taken).join(", ")
          } already exist (an earlier app of this name?); delete them or choose another name`,
          "conflict",
          { name: "its secrets' names are taken" },
        );
      }
      if (domain) {
        const owner = await deps.proxyStore.domainOwner(domain);
        if (owner) {
          throw new Conflict(`${domain} is already routed`, "conflict", { domain: "is in use" });
        }
      }
      // Over a quota answers 409 now, not as a failed provisioning later (create decides again).
      await deps.apps.assertQuota(caller.orgId, spec.data);
      return await deps.audit.run(caller.ctx, "template.deploy", {
        orgId: caller.orgId,
        target: { type: "template", name: id },
        metadata: { app: appName, domain, version: f.template.version, source: f.source },
      }, async () => {
        const p = await store.startProvision({
          org_id: caller.orgId,
          template_id: id,
          template_version: f.template.version,
          source: f.source,
          source_ref: f.row?.id ?? null,
          app_name: appName,
          domain,
          values: rendered.values,
          created_by: caller.ctx.actor.id ?? null,
        });
        const work = run(caller, p, rendered).catch((err) =>
          deps.log.error("templates: provisioning crashed", { provision: p.id, error: String(err) })
        );
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
        return p;
      });
    },

    /**
     * Takes an app down: its routes, its services, the secrets its template made, and its
     * volumes only when `volumes` is asked with the app's name typed as `confirm`.
     */
    async deprovision(
      caller: TemplateCaller,
      app: App,
      opts: { volumes?: boolean; confirm?: string },
    ): Promise<{ routes: number; secrets: string[]; volumes_kept: string[] }> {
      assertWrite(caller);
      if (opts.volumes && opts.confirm !== app.name) {
        throw invalidFields({ confirm: `type the app's name (${app.name}) to delete its volumes` });
      }
      return await deps.audit.run(caller.ctx, "app.deprovisioned", {
        orgId: caller.orgId,
        target: { type: "app", id: app.id, name: app.name },
        metadata: { volumes: Boolean(opts.volumes) },
      }, async () => {
        const routeCaller = {
          ctx: caller.ctx,
          orgId: caller.orgId,
          tokenScope: caller.tokenScope,
          platformAdmin: caller.platformAdmin,
        };
        const routes = await deps.proxyStore.list(caller.orgId, { app: app.name, limit: 200 });
        for (const r of routes) await deps.proxy.remove(routeCaller, r);
        const from = await store.ofApp(app.id);
        await deps.apps.remove(
          { ctx: caller.ctx, role: caller.role, tokenScope: caller.tokenScope },
          app,
          { volumes: Boolean(opts.volumes) },
        );
        const removed: string[] = [];
        for (const name of from?.created.secrets ?? []) {
          try {
            await deps.secrets.remove({ ctx: caller.ctx, orgId: caller.orgId }, name);
            removed.push(name);
          } catch (err) {
            // Another app uses it now: it stays, and the answer says so by its absence.
            if (!(err instanceof DomainError)) throw err;
          }
        }
        const volumes = [
          ...new Set(app.spec.services.flatMap((s) => s.volumes.map((v) => v.name))),
        ];
        return {
          routes: routes.length,
          secrets: removed,
          volumes_kept: opts.volumes ? [] : volumes,
        };
      });
    },

    /** Waits for provisionings in progress (tests, shutdown). */
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

export type Templates = ReturnType<typeof createTemplates>;
