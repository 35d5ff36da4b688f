import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { nasCaller } from "../../../../lib/http/callers.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import type { NasTargetView } from "../../../../lib/nas/service.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { StorageTabs } from "./_storage.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { Time } from "../../../../components/Time.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { ConfirmForm } from "../../../../components/ConfirmForm.tsx";
import {
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";

const PATH = "/o/:org/storage/nas";

const base = (c: AppContext) => `/o/${orgScopeOf(c).org.slug}/storage/nas`;
const isAdmin = (c: AppContext) => roleAtLeast(orgScopeOf(c).role, "admin");

/** The add form's fields as strings; the service checks each (a 400 names the field). */
const AddForm = z.object({
  name: z.string(),
  host: z.string(),
  port: z.coerce.number().int().optional(),
  user: z.string(),
  auth: z.enum(["key", "password"]).optional(),
  password: z.string().optional(),
  backup_root: z.string(),
  stale_threshold_hours: z.coerce.number().int().optional(),
});

const DONE: Record<string, string> = {
  created: "NAS added. Add its public key to the NAS user's authorized_keys, then Check now.",
  checked: "Checked.",
  deleted: "NAS deleted.",
};

/** "last backup N hours ago" and the stale badge, per site. */
function Sites({ t }: { t: NasTargetView }) {
  if (!t.sites.length) {
    return (
      <p class="muted">
        {t.last_checked_at ? "No site in the backup root." : "Not checked yet."}
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table class="table-cards nas-sites">
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Last backup</th>
            <th scope="col">Newest entry</th>
          </tr>
        </thead>
        <tbody>
          {t.sites.map((s) => (
            <tr key={s.name} data-site={s.name} data-stale={s.stale ? "1" : "0"}>
              <td class="card-title">{s.name}</td>
              <td data-label="Last backup">
                last backup {s.age_hours} {s.age_hours === 1 ? "hour" : "hours"} ago{" "}
                {s.stale ? <Badge tone="error">stale</Badge> : <Badge tone="ok">fresh</Badge>}
              </td>
              <td data-label="Newest entry">
                <code>{s.newest_path || "."}</code> <Time ms={s.newest_mtime} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One target: where, how, its keys' fingerprints, the last check and its sites. */
function Target({ c, t }: { c: AppContext; t: NasTargetView }) {
  const self = `${base(c)}/${t.id}`;
  return (
    <section class="card nas-target" data-nas={t.name}>
      <h2>
        {t.name} {t.last_error
          ? <Badge tone="error">check failed</Badge>
          : t.stale_sites
          ? <Badge tone="warn">{t.stale_sites} stale</Badge>
          : t.last_checked_at
          ? <Badge tone="ok">ok</Badge>
          : <Badge>not checked</Badge>}
      </h2>
      <p>
        <code>{t.user}@{t.host}:{t.port}</code> · <code>{t.backup_root}</code> · stale after{" "}
        {t.stale_threshold_hours} hours · {t.auth === "key" ? "key" : "password"} auth
      </p>
      {t.public_key && (
        <div class="field">
          <label for={`key-${t.id}`}>Public key (add to the NAS user's authorized_keys)</label>
          <textarea id={`key-${t.id}`} readOnly rows={2} class="mono">{t.public_key}</textarea>
          <p class="hint">{t.key_fingerprint}</p>
        </div>
      )}
      <p class="muted">
        Host key: {t.known_host_fingerprint
          ? <code>{t.known_host_fingerprint}</code>
          : "pinned on the first check"} · Last check:{" "}
        {t.last_checked_at ? <Time ms={t.last_checked_at} seconds /> : "never"}
      </p>
      {t.last_error && <Alert kind="error">{t.last_error}</Alert>}
      {t.truncated && (
        <Alert kind="warn">
          The listing stopped at 5000 entries: some sites may look older than they are.
        </Alert>
      )}
      <Sites t={t} />
      {isAdmin(c) && (
        <div class="row-actions">
          <form method="post" action={`${self}/check`} class="inline-action">
            <button class="btn btn-small" type="submit">Check now</button>
          </form>
          <a class="btn btn-small btn-danger" href={`${self}/delete`}>Delete…</a>
        </div>
      )}
    </section>
  );
}

/** The add form (admins). */
function AddTarget({ c, form }: { c: AppContext; form: FormState }) {
  const f = { values: form.values, errors: form.errors, idPrefix: "nas" };
  return (
    <form method="post" action={base(c)} class="card form nas-form">
      <h2>Add a NAS</h2>
      <FormAlert errors={form.errors} />
      <TextField name="name" label="Name" required maxLength={63} placeholder="office-nas" {...f} />
      <TextField name="host" label="Host" required placeholder="nas.example.lan" {...f} />
      <TextField
        name="port"
        label="Port"
        type="number"
        min={1}
        max={65535}
        placeholder="22"
        {...f}
      />
      <TextField name="user" label="User" required placeholder="backup" {...f} />
      <SelectField
        name="auth"
        label="Authentication"
        options={[
          { value: "key", label: "Key generated by Capstan (recommended)" },
          { value: "password", label: "Password" },
        ]}
        {...f}
      />
      <TextField
        name="password"
        label="Password"
        type="password"
        autocomplete="new-password"
        hint="Only for password authentication; stored encrypted and never shown again."
        {...f}
      />
      <TextField
        name="backup_root"
        label="Backup root"
        required
        placeholder="/volume1/backups"
        hint="Each folder directly inside is a site; its newest file or folder is its last backup."
        {...f}
      />
      <TextField
        name="stale_threshold_hours"
        label="Stale after (hours)"
        type="number"
        min={1}
        max={8760}
        placeholder="48"
        {...f}
      />
      <div class="actions">
        <button class="btn btn-primary" type="submit">Add NAS</button>
      </div>
    </form>
  );
}

/** The page: every target with its sites, and the add form for admins. */
async function listPage(c: AppContext, form: FormState = {}, status = 200) {
  const targets = await c.var.services.nas.list(orgScopeOf(c).org.id);
  const done = DONE[c.req.query("done") ?? ""];
  return render(
    c,
    <>
      <PageHeader
        title="Storage"
        sub={<>When each site on your NAS was last backed up, read over SSH (read-only).</>}
      />
      <StorageTabs c={c} current="nas" />
      {done && <Alert kind="ok">{done}</Alert>}
      {targets.length
        ? targets.map((t) => <Target key={t.id} c={c} t={t} />)
        : (
          <EmptyState title="No NAS yet">
            <p>Add one to see how fresh its backups are; stale ones raise an alert.</p>
          </EmptyState>
        )}
      {isAdmin(c) && <AddTarget c={c} form={form} />}
    </>,
    { title: "NAS backups", active: "storage", status, noStore: true },
  );
}

async function targetOf(c: AppContext): Promise<NasTargetView> {
  return await c.var.services.nas.get(orgScopeOf(c).org.id, c.req.param("id") ?? "");
}

/** The delete confirmation. */
function deletePage(c: AppContext, t: NasTargetView) {
  return render(
    c,
    <ConfirmForm
      title={`Delete NAS ${t.name}?`}
      action={`${base(c)}/${t.id}/delete`}
      confirm="Delete NAS"
      cancelHref={base(c)}
    >
      <p>
        Capstan stops checking {t.user}@{t.host}{" "}
        and forgets its key; any alert it raised ends. Nothing on the NAS is touched.
      </p>
    </ConfirmForm>,
    { title: `Delete ${t.name}`, active: "storage" },
  );
}

/**
 * `GET /o/:org/storage/nas` (viewers): NAS targets and their sites; `POST` adds one, `POST
 * …/:id/check` checks now, `GET/POST …/:id/delete` deletes after confirmation (admins).
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:viewer", async (c) => await listPage(c));

  page(app, "POST", PATH, "org:admin", async (c) => {
    const raw = await readForm(c);
    const values = { ...raw, password: "" };
    const parsed = parseForm(AddForm, raw);
    if (!parsed.ok) return await listPage(c, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.nas.create(nasCaller(c), parsed.data);
    } catch (err) {
      const e = formError(err);
      return await listPage(c, { values, errors: errorsOf(e) }, e.status);
    }
    return seeOther(c, `${base(c)}?done=created`);
  });

  page(app, "POST", `${PATH}/:id/check`, "org:admin", async (c) => {
    await c.var.services.nas.check(nasCaller(c), c.req.param("id") ?? "");
    return seeOther(c, `${base(c)}?done=checked`);
  });

  page(
    app,
    "GET",
    `${PATH}/:id/delete`,
    "org:admin",
    async (c) => deletePage(c, await targetOf(c)),
  );

  page(app, "POST", `${PATH}/:id/delete`, "org:admin", async (c) => {
    const t = await targetOf(c);
    await c.var.services.nas.remove(nasCaller(c), t.id);
    return seeOther(c, `${base(c)}?done=deleted`);
  });
}
