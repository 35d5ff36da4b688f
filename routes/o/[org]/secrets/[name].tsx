import type { Hono } from "hono";
import type { AppContext, AppEnv } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { SecretView } from "../../../../lib/secrets/service.ts";
import type { SecretEvent, SecretVersion } from "../../../../lib/secrets/store.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { FormAlert, type FormState, TextField } from "../../../../components/Field.tsx";
import { Time } from "../../../../components/Time.tsx";
import { bytes } from "../../../../components/format.ts";
import {
  FILE_ADVICE,
  RotationField,
  SecretValueField,
} from "../../../../components/SecretFields.tsx";
import { render } from "../../../_render.tsx";
import {
  appHrefOf,
  mayChange,
  SecretFlash,
  secretHref,
  secretsBase,
  UseList,
  userNames,
} from "./_secret.tsx";

const TRAIL_PAGE = 30;

/** What a refused form on the page comes back with. */
export interface SecretPageForms {
  rotate?: FormState;
  describe?: FormState;
  status?: number;
}

/** The secret the `:name` parameter names in the caller's organization, with its versions, or 404. */
export async function secretOf(c: AppContext) {
  return await c.var.services.secrets.get(orgScopeOf(c).org.id, c.req.param("name") ?? "");
}

/** An app named on the trail, as far as the entry says (read defensively: the data is free-form). */
interface TrailApp {
  app: string;
  deployment?: number;
  status?: string;
}

/** The apps an entry's data names: `apps: [{ app, deployment_number? }]` or one `app`. */
export function trailApps(data: Record<string, unknown>): TrailApp[] {
  const one = (x: unknown): TrailApp | undefined => {
    if (!x || typeof x !== "object") return undefined;
    const r = x as Record<string, unknown>;
    const app = typeof r.app === "string" ? r.app : typeof r.name === "string" ? r.name : "";
    if (!app) return undefined;
    const n = r.deployment_number ?? r.deployment;
    return {
      app,
      deployment: typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined,
      status: typeof r.status === "string" ? r.status : undefined,
    };
  };
  const list = Array.isArray(data.apps) ? data.apps.map(one) : [one(data)];
  return list.filter((x): x is TrailApp => x !== undefined).slice(0, 50);
}

/** The apps an entry names, each linking to its page or the deployment it started. */
function TrailAppLinks({ c, apps }: { c: AppContext; apps: TrailApp[] }) {
  if (!apps.length) return null;
  return (
    <ul class="trail-apps">
      {apps.map((a, i) => {
        const href = appHrefOf(c, a.app);
        return (
          <li key={`${a.app}-${i}`}>
            <a href={href}>{a.app}</a>
            {a.deployment !== undefined && (
              <>
                {" "}
                <a class="small" href={`${href}/deployments/${a.deployment}`}>
                  deployment #{a.deployment}
                </a>
              </>
            )}
            {a.status && <span class="muted small">{a.status}</span>}
          </li>
        );
      })}
    </ul>
  );
}

const KIND_WORDS: Record<SecretEvent["kind"], string> = {
  created: "created",
  rotated: "rotated",
  restarted: "apps restarted",
  purged: "version purged",
  deployed: "deployed",
};

/** The secret's trail, newest first: who, when, what, which apps. */
function Trail(
  { c, events, self, before }: {
    c: AppContext;
    events: SecretEvent[];
    self: string;
    before?: string;
  },
) {
  return (
    <section class="card secret-trail" aria-labelledby="trail-title" id="trail">
      <h2 id="trail-title">Trail</h2>
      {events.length
        ? (
          <ol class="trail">
            {events.slice(0, TRAIL_PAGE).map((e) => (
              <li key={e.id} data-trail-kind={e.kind}>
                <div class="trail-head">
                  <Badge tone={e.kind === "rotated" ? "accent" : "neutral"}>
                    {KIND_WORDS[e.kind] ?? e.kind}
                  </Badge>
                  <Time ms={e.at} />
                  <span class="muted small">by {e.actor_name ?? "Capstan"}</span>
                </div>
                <p class="trail-text">{e.message}</p>
                <TrailAppLinks c={c} apps={trailApps(e.data)} />
              </li>
            ))}
          </ol>
        )
        : <p class="muted">Nothing on the trail yet.</p>}
      {(before || events.length > TRAIL_PAGE) && (
        <nav class="pager" aria-label="Trail pages">
          {before && <a class="btn" href={`${self}#trail`}>Newest</a>}
          {events.length > TRAIL_PAGE && (
            <a
              class="btn"
              rel="next"
              href={`${self}?before=${encodeURIComponent(events[TRAIL_PAGE - 1].id)}#trail`}
            >
              Older →
            </a>
          )}
        </nav>
      )}
    </section>
  );
}

/** The versions kept, newest first, with the apps whose running deployment uses each. */
function Versions(
  { s, versions, by, keepDays }: {
    s: SecretView;
    versions: SecretVersion[];
    by: (id: string | null) => string;
    keepDays: number;
  },
) {
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title" class="section-title">Versions kept</h2>
      <div class="table-wrap">
        <table class="secret-versions table-cards">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col" class="num">Size</th>
              <th scope="col">Created</th>
              <th scope="col">Running in</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => {
              const running = s.used_by.filter((u) => u.deployed_version === v.version);
              return (
                <tr key={v.version} data-version={v.version}>
                  <td class="card-title">
                    <span>
                      Version {v.version}{" "}
                      {v.version === s.current_version && <Badge tone="ok">current</Badge>}
                    </span>
                  </td>
                  <td class="num" data-label="Size">{bytes(v.size_bytes)}</td>
                  <td data-label="Created">
                    <div>
                      <Time ms={v.created_at} />
                      <div class="muted small">by {by(v.created_by)}</div>
                    </div>
                  </td>
                  <td data-label="Running in">
                    {running.length
                      ? <span>{running.map((u) => u.app).join(", ")}</span>
                      : <span class="muted">—</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted small">
        Older versions stay {keepDays}{" "}
        days for rollbacks, then are purged unless a running deployment still uses them.
      </p>
    </section>
  );
}

/** The secret's page, optionally with a refused rotation or description. */
export async function secretPage(c: AppContext, forms: SecretPageForms = {}) {
  const s = await secretOf(c);
  const org = orgScopeOf(c).org;
  const rawBefore = c.req.query("before") ?? "";
  const before = /^[0-9a-f-]{36}$/.test(rawBefore) ? rawBefore : undefined;
  const events = await c.var.services.secrets.trail(org.id, s.name, {
    before,
    limit: TRAIL_PAGE + 1,
  });
  const by = await userNames(c, [
    s.created_by,
    s.updated_by,
    ...s.versions.map((v) => v.created_by),
  ]);
  const self = secretHref(c, s.name);
  const change = mayChange(c);
  const viaEnv = s.used_by.filter((u) => u.services.some((x) => x.env));
  const behind = s.used_by.filter((u) =>
    u.deployed_version !== null && u.deployed_version < s.current_version
  );
  const rotate = forms.rotate;
  const describe = forms.describe;

  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={secretsBase(c)}>Secrets</a>
      </nav>
      <PageHeader
        title={s.name}
        sub={
          <>
            <Badge>{s.kind}</Badge> version {s.current_version}
          </>
        }
      >
        {change && <a class="btn btn-primary" href="#rotate">Rotate…</a>}
      </PageHeader>
      <SecretFlash c={c} />
      <div class="grid-2 secret-panels">
        <section class="card" aria-labelledby="facts-title">
          <h2 id="facts-title">About</h2>
          <dl class="props secret-facts">
            <dt>Description</dt>
            <dd>{s.description || <span class="muted">none</span>}</dd>
            <dt>Kind</dt>
            <dd>
              {s.kind === "text"
                ? "Text: an environment variable or a file"
                : "Binary: a file only"}
            </dd>
            <dt>Current version</dt>
            <dd data-current-version={s.current_version}>{s.current_version}</dd>
            <dt>Created</dt>
            <dd>
              <Time ms={s.created_at} /> <span class="muted">by {by(s.created_by)}</span>
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time ms={s.updated_at} /> <span class="muted">by {by(s.updated_by)}</span>
            </dd>
            <dt>Value</dt>
            <dd class="muted">Never shown: it is write-only.</dd>
          </dl>
          {change && (
            <details class="edit-description" open={Boolean(describe)}>
              <summary>Edit the description</summary>
              <form method="post" action={`${self}/description`} class="form">
                <FormAlert errors={describe?.errors} />
                <TextField
                  name="description"
                  label="Description"
                  maxLength={500}
                  autocomplete="off"
                  hint="What it is for; the value stays as it is."
                  values={describe?.values ?? { description: s.description }}
                  errors={describe?.errors}
                  idPrefix="describe"
                />
                <div class="actions">
                  <button class="btn" type="submit">Save description</button>
                </div>
              </form>
            </details>
          )}
        </section>
        <section class="card" aria-labelledby="uses-title">
          <h2 id="uses-title">Used by</h2>
          {s.used_by.length ? <UseList c={c} uses={s.used_by} /> : (
            <p class="muted">
              No app uses it yet. Members attach it to an app in the app's settings (Edit →
              Secrets).
            </p>
          )}
          {behind.length > 0 && (
            <p class="small">
              Still running an older version:{" "}
              {behind.map((u) => `${u.app} (version ${u.deployed_version})`).join(", ")}.
            </p>
          )}
          {viaEnv.length > 0 && (
            <p class="hint secret-env-note">
              {viaEnv.map((u) => u.app).join(", ")} {viaEnv.length === 1 ? "gets" : "get"}{" "}
              it as an environment variable. {FILE_ADVICE}
            </p>
          )}
        </section>
      </div>
      {change && (
        <section class="card" aria-labelledby="rotate-title" id="rotate">
          <h2 id="rotate-title">Rotate</h2>
          <form
            method="post"
            action={`${self}/rotate`}
            enctype="multipart/form-data"
            class="form"
          >
            <FormAlert errors={rotate?.errors} />
            <div class="grid-2 rotate-grid">
              <SecretValueField
                label="New value"
                errors={rotate?.errors}
                retry={Boolean(rotate?.errors)}
                idPrefix="rotate"
              />
              <div class="rotate-side">
                <RotationField
                  value={rotate?.values?.rotation}
                  error={rotate?.errors?.rotation}
                  idPrefix="rotate"
                />
                <div class="actions">
                  <button class="btn btn-primary" type="submit">Save new version</button>
                </div>
              </div>
            </div>
          </form>
        </section>
      )}
      <Versions
        s={s}
        versions={s.versions}
        by={by}
        keepDays={c.var.services.config.secretsKeepDays}
      />
      <Trail c={c} events={events} self={self} before={before} />
      {change && (
        <section class="card danger-zone" aria-labelledby="delete-title">
          <h2 id="delete-title">Delete this secret</h2>
          {s.used_by.length > 0
            ? (
              <Alert kind="warn">
                It cannot be deleted while {s.used_by.map((u) => u.app).join(", ")}{" "}
                {s.used_by.length === 1 ? "uses" : "use"} it: detach it in the app's settings first.
              </Alert>
            )
            : <p>Every version is deleted. Apps can no longer be given it.</p>}
          <a class="btn btn-danger-ghost" href={`${self}/delete`}>Delete secret…</a>
        </section>
      )}
    </>,
    // A form that takes a value: never cached, so Back does not bring back what was typed.
    {
      title: `${s.name} · Secrets`,
      active: "secrets",
      status: forms.status ?? 200,
      noStore: Boolean(change),
    },
  );
}

/** `GET /o/:org/secrets/:name`: a secret's facts, versions, users and trail (viewers). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/secrets/:name", "org:viewer", (c) => secretPage(c));
}
