import type { ComponentChildren } from "preact";
import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import type { HttpError } from "../../../../../lib/http/errors.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { buildCaller } from "../../../../../lib/http/callers.ts";
import { island } from "../../../../../lib/islands/island.tsx";
import { roleAtLeast } from "../../../../../lib/auth/principal.ts";
import type { App } from "../../../../../lib/apps/store.ts";
import { sourceInput, type SourceView } from "../../../../../lib/builds/service.ts";
import CopyButton from "../../../../../islands/CopyButton.tsx";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import { Badge } from "../../../../../components/Badge.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../../components/Field.tsx";
import { TextAreaField } from "../../../../../components/TextAreaField.tsx";
import { ConfirmAction } from "../../../../../components/ConfirmAction.tsx";
import { Time } from "../../../../../components/Time.tsx";
import type { FieldErrors, FormValues } from "../../../../_forms.ts";
import { readForm } from "../../../../_forms.ts";
import { stashReveal, takeReveal } from "../../../../_reveal.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../../../_render.tsx";
import { ActionError, actionError, AppCrumbs, appOf, mayOperate } from "../_app.tsx";
import {
  BuildNowButton,
  BuildsFlash,
  BuildsTabs,
  chosenService,
  hookUrl,
  sourceHref,
  webhookHref,
} from "./_builds.tsx";

const CopyButtonIsland = island("CopyButton", CopyButton);
const PATH = "/o/:org/apps/:app/source";

/** What a refused form, an action's error or a just-made webhook secret brings to the page. */
interface SourcePageState {
  form?: FormState;
  error?: HttpError;
  /** The webhook secret, on the one response that shows it. */
  secret?: string;
  service?: string;
  status?: number;
}

/** Whether the caller may rotate the webhook secret: an org admin, not through a read token. */
function mayAdmin(c: AppContext): boolean {
  return mayOperate(c) && roleAtLeast(orgScopeOf(c).role, "admin");
}

/** The form's values of a stored source (new sources: main, detected, auto-deploy). */
function valuesOf(s: SourceView | undefined): FormValues {
  if (!s) {
    return { branch: "main", builder: "auto", auth: "none", auto_deploy: "on" };
  }
  return {
    repo_url: s.repo_url,
    branch: s.branch,
    subdir: s.subdir,
    build_file: s.build_file,
    builder: s.builder,
    auth: s.auth,
    build_args: Object.entries(s.build_args).map(([k, v]) => `${k}=${v}`).join("\n"),
    target: s.target,
    auto_deploy: s.auto_deploy ? "on" : "",
    build_tags: s.build_tags ? "on" : "",
  };
}

/**
 * The source form as the service takes it, with the form's own mistakes (a build argument line
 * without `=`) and the service's rules on every other field, so all are said in one answer.
 */
function inputOf(v: FormValues, allowLocal: boolean) {
  const errors: FieldErrors = {};
  const build_args: Record<string, string> = {};
  for (const raw of (v.build_args ?? "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf("=");
    if (i <= 0) {
      errors.build_args ??= `"${line.slice(0, 40)}" is not a KEY=VALUE line`;
      continue;
    }
    build_args[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  const blank = (k: string) => (v[k] ?? "").trim() || undefined;
  const auth = (["none", "token", "ssh"] as const).find((a) => a === v.auth) ?? "none";
  const input = {
    repo_url: (v.repo_url ?? "").trim(),
    branch: blank("branch"),
    subdir: blank("subdir"),
    build_file: blank("build_file"),
    builder: blank("builder"),
    build_args,
    target: blank("target"),
    auth,
    // Write-only: blank keeps the stored token (and user name).
    token: auth === "token" ? (v.token ?? "").trim() || undefined : undefined,
    username: auth === "token" ? blank("username") : undefined,
    auto_deploy: v.auto_deploy === "on",
    build_tags: v.build_tags === "on",
  };
  const checked = sourceInput(allowLocal).safeParse(input);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      errors[String(issue.path[0] ?? "_form")] ??= issue.message;
    }
  }
  return { input, errors };
}

/** A service error's messages by form field (`build_args.KEY` is the build arguments box). */
function fieldErrorsOf(e: HttpError): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, msg] of Object.entries(e.fields ?? {})) {
    const field = k.split(".")[0];
    out[field === "body" ? "_form" : field] ??= msg;
  }
  if (!Object.keys(out).length) out._form = e.message;
  return out;
}

/** What the Git hosts want in their webhook settings. */
const PROVIDERS: { name: string; where: string; fields: [string, string][] }[] = [
  {
    name: "GitHub",
    where: "Repository → Settings → Webhooks → Add webhook",
    fields: [
      ["Payload URL", "the URL above"],
      ["Content type", "application/json"],
      ["Secret", "the webhook secret"],
      ["Events", "Just the push event"],
    ],
  },
  {
    name: "GitLab",
    where: "Project → Settings → Webhooks → Add new webhook",
    fields: [
      ["URL", "the URL above"],
      ["Secret token", "the webhook secret"],
      ["Trigger", "Push events (and Tag push events when tags build)"],
    ],
  },
  {
    name: "Bitbucket",
    where: "Repository settings → Webhooks → Add webhook",
    fields: [
      ["URL", "the URL above"],
      ["Secret", "the webhook secret"],
      ["Triggers", "Repository push"],
    ],
  },
  {
    name: "Gitea / Forgejo",
    where: "Repository → Settings → Webhooks → Add webhook → Gitea (or Forgejo)",
    fields: [
      ["Target URL", "the URL above"],
      ["POST content type", "application/json"],
      ["Secret", "the webhook secret"],
      ["Trigger on", "Push events"],
    ],
  },
];

/** The webhook secret on the one page that shows it. */
function NewSecret({ secret, copy }: { secret: string; copy: ComponentChildren }) {
  return (
    <section class="card new-token" aria-labelledby="hook-secret-title">
      <h2 id="hook-secret-title">Webhook secret</h2>
      <p class="warn-text">
        Copy it now: it is shown only once. Paste it into the Git host's webhook settings (below).
        If it is lost, rotate it.
      </p>
      <div class="secret">
        <code id="webhook-secret" class="secret-value">{secret}</code>
        {copy}
      </div>
    </section>
  );
}

/** The source form (members): repository, branch, build settings, credentials, deploy policy. */
function SourceForm(
  { action, service, source, form }: {
    action: string;
    service: string;
    source?: SourceView;
    form: FormState;
  },
) {
  const { values, errors } = form;
  const p = { values, errors, idPrefix: "src" };
  return (
    <form method="post" action={action} class="card form source-form">
      <h2>{source ? "Repository" : "Connect a Git repository"}</h2>
      <FormAlert errors={errors} />
      <input type="hidden" name="service" value={service} />
      <TextField
        {...p}
        name="repo_url"
        label="Repository URL"
        required
        autocomplete="off"
        placeholder="https://git.example.com/team/shop.git"
        hint="https://, ssh:// or git@host:path. Never put a token in the URL: it has its own field."
      />
      <div class="grid-2 source-grid">
        <TextField {...p} name="branch" label="Branch" autocomplete="off" placeholder="main" />
        <TextField
          {...p}
          name="subdir"
          label="Folder"
          autocomplete="off"
          placeholder="(the repository's root)"
          hint="The build context, inside the repository."
        />
        <SelectField
          {...p}
          name="builder"
          label="Builder"
          options={[
            { value: "auto", label: "Detect" },
            { value: "dockerfile", label: "Dockerfile" },
            { value: "nix", label: "Nix" },
          ]}
          hint="Detect: a Dockerfile, else a Nix expression, else the project's type (package.json, go.mod, …)."
        />
        <TextField
          {...p}
          name="build_file"
          label="Build file"
          autocomplete="off"
          placeholder="Dockerfile"
          hint="Relative to the folder; blank finds it."
        />
        <TextField
          {...p}
          name="target"
          label="Target stage"
          autocomplete="off"
          hint="A multi-stage Dockerfile's stage to build; blank builds the last."
        />
      </div>
      <TextAreaField
        {...p}
        name="build_args"
        label="Build arguments"
        rows={3}
        placeholder="NODE_ENV=production"
        hint="KEY=VALUE, one a line. Not for secrets: they stay in the image's history."
      />
      <fieldset class="source-auth">
        <legend>Access</legend>
        <SelectField
          {...p}
          name="auth"
          label="Authentication"
          options={[
            { value: "none", label: "None (a public repository)" },
            { value: "token", label: "Access token (HTTPS)" },
            { value: "ssh", label: "Deploy key (SSH)" },
          ]}
          hint="A deploy key is made for this app when you save; add its public half to the repository."
        />
        <div class="grid-2 source-grid">
          <TextField
            {...p}
            name="token"
            label="Access token"
            type="password"
            autocomplete="new-password"
            hint={source?.token_set
              ? "Set: leave blank to keep it."
              : "For token access: read access to the repository is enough."}
          />
          <TextField
            {...p}
            name="username"
            label="User name"
            autocomplete="off"
            hint="For token access, when the host wants one (Bitbucket); blank keeps it."
          />
        </div>
      </fieldset>
      <CheckboxField
        {...p}
        name="auto_deploy"
        label="Deploy each successful build"
        hint="Health-gated: a build whose image fails its health check is rolled back."
      />
      <CheckboxField {...p} name="build_tags" label="Build pushed tags too" />
      <div class="actions">
        <button class="btn btn-primary" type="submit">
          {source ? "Save" : "Connect repository"}
        </button>
      </div>
    </form>
  );
}

/** The source as viewers see it. */
function SourceFacts({ s }: { s: SourceView }) {
  const args = Object.entries(s.build_args);
  return (
    <section class="card" aria-labelledby="facts-title">
      <h2 id="facts-title">Repository</h2>
      <dl class="props source-facts">
        <dt>Repository</dt>
        <dd>
          <code>{s.repo_url}</code>
        </dd>
        <dt>Branch</dt>
        <dd>
          <code>{s.branch}</code>
        </dd>
        <dt>Folder</dt>
        <dd>{s.subdir ? <code>{s.subdir}</code> : <span class="muted">the root</span>}</dd>
        <dt>Builder</dt>
        <dd>
          {s.builder}
          {s.build_file && (
            <>
              {" "}· <code>{s.build_file}</code>
            </>
          )}
          {s.target && <>· stage {s.target}</>}
        </dd>
        <dt>Build arguments</dt>
        <dd>{args.length ? args.map(([k]) => k).join(", ") : <span class="muted">none</span>}</dd>
        <dt>Access</dt>
        <dd>
          {s.auth === "token" ? "access token (set)" : s.auth === "ssh" ? "deploy key" : "none"}
        </dd>
        <dt>Deploy</dt>
        <dd>{s.auto_deploy ? "each successful build" : "by hand"}</dd>
        <dt>Updated</dt>
        <dd>
          <Time ms={s.updated_at} />
        </dd>
      </dl>
    </section>
  );
}

/** The deploy key's public half and the pinned host key. */
function DeployKey({ s, copy }: { s: SourceView; copy: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby="key-title">
      <h2 id="key-title">Deploy key</h2>
      <p>
        Add this public key to the repository as a read-only deploy key (GitHub: Settings → Deploy
        keys; GitLab: Settings → Repository → Deploy keys; Gitea and Forgejo: Settings → Deploy
        Keys).
      </p>
      <div class="secret">
        <code id="deploy-key" class="secret-value">{s.ssh_public_key}</code>
        {copy}
      </div>
      <dl class="props">
        <dt>Fingerprint</dt>
        <dd>
          <code>{s.ssh_fingerprint}</code>
        </dd>
        <dt>Git host's key</dt>
        <dd>
          {s.known_host_fingerprint
            ? <code data-known-host>{s.known_host_fingerprint}</code>
            : <span class="muted">pinned on the first clone, then checked on every one</span>}
        </dd>
      </dl>
    </section>
  );
}

/** The app's webhook: its URL, its state, what each Git host wants, and rotating its secret. */
function Webhook(
  { c, app, hook, admin, copy }: {
    c: AppContext;
    app: App;
    hook: { id: string; rotated_at: number; disabled_until: number | null };
    admin: boolean;
    copy: ComponentChildren;
  },
) {
  const self = sourceHref(c, app);
  return (
    <section class="card" aria-labelledby="hook-title" id="webhook">
      <h2 id="hook-title">Webhook</h2>
      <p>
        Pushes to the branch build and deploy by themselves once the Git host sends them here,
        signed with the webhook's secret.
      </p>
      {hook.disabled_until && (
        <Alert kind="warn">
          Disabled until <Time ms={hook.disabled_until} seconds />{" "}
          after too many deliveries with a bad signature. Check the secret in the Git host.
        </Alert>
      )}
      <div class="secret">
        <code id="webhook-url" class="secret-value">{hookUrl(c, hook.id)}</code>
        {copy}
      </div>
      <p class="muted small">
        Secret set <Time ms={hook.rotated_at} />; it is never shown again.{" "}
        <a href={webhookHref(c, app)}>Deliveries received</a>
      </p>
      <div class="hook-providers">
        {PROVIDERS.map((p, i) => (
          <details key={p.name} open={i === 0}>
            <summary>{p.name}</summary>
            <p class="small">{p.where}:</p>
            <dl class="props">
              {p.fields.map(([k, v]) => (
                <>
                  <dt key={`k-${k}`}>{k}</dt>
                  <dd key={`v-${k}`}>{v}</dd>
                </>
              ))}
            </dl>
          </details>
        ))}
      </div>
      {admin && <a class="btn" href={`${self}/rotate`}>Rotate secret…</a>}
    </section>
  );
}

/** The Git source page of one service of an app. */
async function sourcePage(c: AppContext, kit: PageKit, state: SourcePageState = {}) {
  const app = await appOf(c);
  const service = chosenService(c, app, state.service);
  const { builds } = c.var.services;
  const [sources, hook] = await Promise.all([builds.sources(app), builds.hook(app)]);
  const source = sources.find((s) => s.service === service);
  const operate = mayOperate(c);
  const admin = mayAdmin(c);
  const names = app.spec.services.map((s) => s.name);
  const connected = new Set(sources.map((s) => s.service));
  const copies = hasIsland(kit.manifest, "CopyButton");
  const copy = (target: string, label: string) =>
    copies && <CopyButtonIsland target={target} label={label} />;
  const form = state.form ?? { values: valuesOf(source) };
  return render(
    c,
    <>
      <AppCrumbs c={c} app={app} />
      <PageHeader
        title="Git source"
        sub={
          <>
            Build {app.name}'s images from a Git repository, on a worker.{" "}
            <span data-image-delivery>
              {c.var.services.config.builds.registry
                ? `Built images are pushed to ${c.var.services.config.builds.registry.url}.`
                : "No registry is set (CAPSTAN_REGISTRY_URL): built images are copied to each node through its agent."}
            </span>
          </>
        }
      >
        {operate && source && <BuildNowButton c={c} app={app} service={service} />}
      </PageHeader>
      <BuildsTabs c={c} app={app} current="source" />
      <BuildsFlash c={c} />
      <ActionError error={state.error} />
      {state.secret && (
        <NewSecret secret={state.secret} copy={copy("webhook-secret", "Copy secret")} />
      )}
      {names.length > 1 && (
        <nav class="service-tabs" aria-label="Services">
          <span class="muted small">Service</span>
          {names.map((n) => (
            <a
              key={n}
              class="btn btn-small"
              href={sourceHref(c, app, n)}
              aria-current={n === service ? "page" : undefined}
            >
              {n}
              {connected.has(n) && <Badge tone="ok">connected</Badge>}
            </a>
          ))}
        </nav>
      )}
      {!source && !operate && (
        <p class="muted">
          {service} is not built from Git: its image is set in the app's settings.
        </p>
      )}
      {operate
        ? (
          <SourceForm
            action={sourceHref(c, app)}
            service={service}
            source={source}
            form={form}
          />
        )
        : source && <SourceFacts s={source} />}
      {source?.auth === "ssh" && source.ssh_public_key && (
        <DeployKey s={source} copy={copy("deploy-key", "Copy key")} />
      )}
      {hook && sources.length > 0 && (
        <Webhook c={c} app={app} hook={hook} admin={admin} copy={copy("webhook-url", "Copy URL")} />
      )}
      {operate && source && (
        <section class="card danger-zone" aria-labelledby="disconnect-title">
          <h2 id="disconnect-title">Disconnect {service}</h2>
          <p>
            It stops building from the repository; its builds stay in the history and the running
            image keeps running.
          </p>
          <a
            class="btn btn-danger-ghost"
            href={`${sourceHref(c, app)}/delete?service=${encodeURIComponent(service)}`}
          >
            Disconnect…
          </a>
        </section>
      )}
    </>,
    {
      title: `Git source · ${app.name}`,
      active: "apps",
      status: state.status ?? state.error?.status ?? 200,
      // A form that takes a token, or a secret on the page: never cached.
      noStore: operate || Boolean(state.secret),
      manifest: kit.manifest,
    },
  );
}

/**
 * `GET/POST /o/:org/apps/:app/source` (viewers read, members connect): a service's Git source;
 * `…/source/rotate` (admins) a new webhook secret, shown once; `…/source/delete` (members)
 * disconnects a service. Each change asks first where it cannot be undone.
 */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", async (c) => {
    if (c.req.query("secret") === undefined) return await sourcePage(c, kit);
    const target = await appOf(c);
    const r = await takeReveal(c, sourceHref(c, target));
    const secret = typeof r?.secret === "string" ? r.secret : undefined;
    return await sourcePage(c, kit, { secret });
  });

  page(app, "POST", PATH, "org:member", async (c) => {
    const target = await appOf(c);
    const values = await readForm(c);
    const service = chosenService(c, target, values.service);
    const { token: _never, ...kept } = values;
    const { input, errors } = inputOf(values, c.get("principal")?.isAdmin ?? false);
    if (Object.keys(errors).length) {
      return await sourcePage(c, kit, { form: { values: kept, errors }, service, status: 400 });
    }
    let secret: string | undefined;
    let existed = false;
    try {
      existed = (await c.var.services.builds.sources(target)).some((s) => s.service === service);
      secret = (await c.var.services.builds.connect(buildCaller(c), target, service, input))
        .webhook_secret;
    } catch (err) {
      const e = actionError(err);
      if (e.status === 400 || e.fields) {
        return await sourcePage(c, kit, {
          form: { values: kept, errors: fieldErrorsOf(e) },
          service,
          status: e.status,
        });
      }
      return await sourcePage(c, kit, { error: e, service });
    }
    const done = existed ? "saved" : "connected";
    const next = `${sourceHref(c, target, service)}&done=${done}`;
    if (!secret) return seeOther(c, next);
    // POST → redirect → GET with the secret in an encrypted one-time cookie (never the URL).
    await stashReveal(c, sourceHref(c, target), { secret });
    return seeOther(c, `${next}&secret=1`);
  });

  page(app, "GET", `${PATH}/rotate`, "org:admin", async (c) => {
    const target = await appOf(c);
    const self = sourceHref(c, target);
    return render(
      c,
      <ConfirmAction
        title={`Rotate the webhook secret of ${target.name}?`}
        action={`${self}/rotate`}
        confirm="Rotate secret"
        cancelHref={`${self}#webhook`}
      >
        <p>
          A new secret is made and shown once. The old one stops working at once: pushes are refused
          until the new one is pasted into the Git host's webhook settings.
        </p>
      </ConfirmAction>,
      { title: `Rotate webhook secret · ${target.name}`, active: "apps" },
    );
  });

  page(app, "POST", `${PATH}/rotate`, "org:admin", async (c) => {
    const target = await appOf(c);
    let secret: string;
    try {
      secret = (await c.var.services.builds.rotateWebhookSecret(buildCaller(c), target)).secret;
    } catch (err) {
      return await sourcePage(c, kit, { error: actionError(err) });
    }
    await stashReveal(c, sourceHref(c, target), { secret });
    return seeOther(c, `${sourceHref(c, target)}?done=rotated&secret=1`);
  });

  page(app, "GET", `${PATH}/delete`, "org:member", async (c) => {
    const target = await appOf(c);
    const service = chosenService(c, target);
    const s = await c.var.services.builds.source(target, service);
    const q = `?service=${encodeURIComponent(service)}`;
    return render(
      c,
      <ConfirmAction
        title={`Disconnect ${service} of ${target.name} from its repository?`}
        action={`${sourceHref(c, target)}/delete${q}`}
        confirm="Disconnect"
        cancelHref={sourceHref(c, target, service)}
      >
        <p>
          <code>{s.repo_url}</code> ({s.branch}) no longer builds{" "}
          {service}: pushes are skipped and "Build now" is gone. Its builds stay in the history; the
          running image keeps running.
        </p>
      </ConfirmAction>,
      { title: `Disconnect · ${target.name}`, active: "apps" },
    );
  });

  page(app, "POST", `${PATH}/delete`, "org:member", async (c) => {
    const target = await appOf(c);
    const service = chosenService(c, target);
    try {
      await c.var.services.builds.disconnect(buildCaller(c), target, service);
    } catch (err) {
      return await sourcePage(c, kit, { error: actionError(err), service });
    }
    return seeOther(c, `${sourceHref(c, target, service)}&done=disconnected`);
  });
}
