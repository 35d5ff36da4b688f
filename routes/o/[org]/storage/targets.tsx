import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import type { HttpError } from "../../../../lib/http/errors.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { TargetView } from "../../../../lib/snapshots/targets.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { ConfirmForm } from "../../../../components/ConfirmForm.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  TextField,
} from "../../../../components/Field.tsx";
import { TextAreaField } from "../../../../components/TextAreaField.tsx";
import { Time } from "../../../../components/Time.tsx";
import { errorsOf, formError, type FormValues, readForm } from "../../../_forms.ts";
import { type PageKit, render, seeOther } from "../../../_render.tsx";
import { abilities } from "../_docker.tsx";
import { StorageFlash, StorageTabs, targetsHref, VerifiedBadge } from "./_storage.tsx";

type Kind = TargetView["kind"];
const KINDS: Kind[] = ["s3", "filesystem", "sftp"];

/** What a refused form or a failed action brings back to the page. */
interface TargetsPageState {
  kind?: Kind;
  form?: FormState;
  error?: HttpError;
  /** The outcome of a "Test connection" just run. */
  tested?: { id: string; ok: boolean; message: string };
}

/** Where a target keeps its repository, in one line. */
export function targetWhere(t: TargetView): string {
  const c = t.config as Record<string, string | number | boolean | undefined>;
  if (t.kind === "s3") {
    const prefix = c.prefix ? `/${c.prefix}` : "";
    return `${c.endpoint} · ${c.bucket}${prefix}${c.path_style ? " (path-style)" : ""}`;
  }
  if (t.kind === "sftp") return `sftp://${c.user}@${c.host}:${c.port ?? 22}/${c.path}`;
  return c.path ? String(c.path) : "each host's Capstan data folder (snapshots/<org>)";
}

const KIND_LABEL: Record<Kind, string> = {
  s3: "S3-compatible",
  filesystem: "Folder",
  sftp: "SFTP",
};

/**
 * The form's values as the service takes them: checkboxes to booleans, numbers to numbers, and
 * blank fields left out (so "optional" means "may be left blank").
 */
export function targetInputOf(values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (k === "_csrf") continue;
    if (k === "path_style" || k === "is_default") out[k] = v === "on";
    else if (k === "port") out[k] = v.trim() === "" ? undefined : Number(v);
    else if (v.trim() !== "") out[k] = k === "ca_pem" || k === "private_key" ? v : v.trim();
  }
  return out;
}

function TargetsTable(
  { c, targets, admin, tested }: {
    c: AppContext;
    targets: TargetView[];
    admin: boolean;
    tested?: TargetsPageState["tested"];
  },
) {
  const base = targetsHref(c);
  return (
    <div class="table-wrap">
      <table class="table-cards targets-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Where</th>
            <th scope="col">Connection</th>
            <th scope="col">Verification</th>
            {admin && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {targets.map((t) => (
            <tr key={t.id} data-target={t.name}>
              <td class="card-title">
                {t.name} {t.is_default && <Badge tone="accent">default</Badge>}
              </td>
              <td data-label="Kind">{KIND_LABEL[t.kind]}</td>
              <td data-label="Where" class="cell-wrap">
                <code>{targetWhere(t)}</code>
              </td>
              <td data-label="Connection">
                {tested?.id === t.id
                  ? <Alert kind={tested.ok ? "ok" : "error"}>{tested.message}</Alert>
                  : t.tested_at
                  ? (
                    <span title={t.test_error ?? undefined}>
                      <Badge tone={t.test_ok ? "ok" : "error"}>{t.test_ok ? "ok" : "failed"}</Badge>
                      {" "}
                      <span class="muted small">
                        <Time ms={t.tested_at} />
                      </span>
                      {!t.test_ok && t.test_error && <div class="small">{t.test_error}</div>}
                    </span>
                  )
                  : <span class="muted">not tested</span>}
              </td>
              <td data-label="Verification">
                <VerifiedBadge t={t} />
                {t.verify_status === "failed" && t.verify_error && (
                  <div class="small">{t.verify_error}</div>
                )}
              </td>
              {admin && (
                <td class="actions-cell">
                  <div class="row-actions target-actions">
                    <form method="post" action={`${base}/${t.id}/test`} class="inline-action">
                      <button class="btn btn-small" type="submit">Test connection</button>
                    </form>
                    <form method="post" action={`${base}/${t.id}/verify`} class="inline-action">
                      <button class="btn btn-small" type="submit">Verify now</button>
                    </form>
                    {!t.is_default && (
                      <form method="post" action={`${base}/${t.id}/default`} class="inline-action">
                        <button class="btn btn-small" type="submit">Make default</button>
                      </form>
                    )}
                    <a class="btn btn-small btn-danger" href={`${base}/${t.id}/delete`}>Delete</a>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One "add a target" form per kind: each works without JS, and only its own fields show. */
function AddTargetForms({ c, state }: { c: AppContext; state: TargetsPageState }) {
  const action = targetsHref(c);
  const formOf = (kind: Kind) =>
    state.kind === kind ? { values: state.form?.values, errors: state.form?.errors } : {};
  const s3 = { ...formOf("s3"), idPrefix: "s3" };
  const fs = { ...formOf("filesystem"), idPrefix: "fs" };
  const sftp = { ...formOf("sftp"), idPrefix: "sftp" };
  return (
    <section class="card" aria-labelledby="add-target">
      <h2 id="add-target">Add a storage target</h2>
      <p class="muted">
        Each target holds one encrypted restic repository for this organization; its password is
        generated and kept encrypted. Keys and passwords you enter here are never shown again.
      </p>
      <details class="more-options" open={!state.kind || state.kind === "s3"}>
        <summary>S3-compatible object storage</summary>
        <form method="post" action={action} class="form">
          <FormAlert errors={s3.errors} />
          <input type="hidden" name="kind" value="s3" />
          <div class="grid-2">
            <TextField {...s3} name="name" label="Name" required placeholder="offsite" />
            <TextField
              {...s3}
              name="endpoint"
              label="Endpoint"
              required
              placeholder="https://<ref>.supabase.co/storage/v1/s3"
              hint="AWS S3, MinIO, Cloudflare R2, Backblaze B2 or Supabase Storage's S3 endpoint."
            />
            <TextField {...s3} name="region" label="Region" placeholder="us-east-1" />
            <TextField {...s3} name="bucket" label="Bucket" required placeholder="backups" />
            <TextField
              {...s3}
              name="prefix"
              label="Prefix"
              placeholder="capstan"
              hint="A folder inside the bucket."
            />
            <TextField
              {...s3}
              name="access_key_id"
              label="Access key"
              required
              autocomplete="off"
            />
            <TextField
              {...s3}
              name="secret_access_key"
              label="Secret key"
              type="password"
              required
              autocomplete="new-password"
            />
          </div>
          <CheckboxField
            {...s3}
            name="path_style"
            label="Path-style addressing"
            hint="MinIO and Supabase need it; AWS uses virtual-host style."
          />
          <TextAreaField
            {...s3}
            name="ca_pem"
            label="CA certificate (PEM)"
            rows={3}
            hint="Only for a server with its own certificate authority."
          />
          <CheckboxField {...s3} name="is_default" label="Make it the default target" />
          <div class="actions">
            <button class="btn btn-primary" type="submit">Add S3 target</button>
          </div>
        </form>
      </details>
      <details class="more-options" open={state.kind === "filesystem"}>
        <summary>A folder on each host (or a NAS share mounted there)</summary>
        <form method="post" action={action} class="form">
          <FormAlert errors={fs.errors} />
          <input type="hidden" name="kind" value="filesystem" />
          <div class="grid-2">
            <TextField {...fs} name="name" label="Name" required placeholder="local" />
            <TextField
              {...fs}
              name="path"
              label="Folder"
              placeholder="/mnt/nas/capstan"
              hint="Absolute, on the host that has the volume. Blank: Capstan's data folder."
            />
          </div>
          <CheckboxField {...fs} name="is_default" label="Make it the default target" />
          <div class="actions">
            <button class="btn btn-primary" type="submit">Add folder target</button>
          </div>
        </form>
      </details>
      <details class="more-options" open={state.kind === "sftp"}>
        <summary>SFTP (a NAS reachable over SSH)</summary>
        <form method="post" action={action} class="form">
          <FormAlert errors={sftp.errors} />
          <input type="hidden" name="kind" value="sftp" />
          <div class="grid-2">
            <TextField {...sftp} name="name" label="Name" required placeholder="nas" />
            <TextField {...sftp} name="host" label="Host" required placeholder="nas.lan" />
            <TextField
              {...sftp}
              name="port"
              label="Port"
              type="number"
              min={1}
              max={65535}
              placeholder="22"
            />
            <TextField {...sftp} name="user" label="User" required placeholder="backup" />
            <TextField
              {...sftp}
              name="path"
              label="Folder"
              required
              placeholder="/volume1/capstan"
            />
          </div>
          <TextAreaField
            {...sftp}
            name="private_key"
            label="Private key"
            rows={4}
            hint="OpenSSH format; stored encrypted, never shown again."
          />
          <TextAreaField
            {...sftp}
            name="known_hosts"
            label="Host key (known_hosts line)"
            rows={2}
            hint="Pins the server's key; blank accepts the first key seen."
          />
          <CheckboxField {...sftp} name="is_default" label="Make it the default target" />
          <div class="actions">
            <button class="btn btn-primary" type="submit">Add SFTP target</button>
          </div>
        </form>
      </details>
    </section>
  );
}

async function targetsPage(c: AppContext, state: TargetsPageState = {}) {
  const { org } = orgScopeOf(c);
  const can = abilities(c);
  const targets = await c.var.services.storageTargets.list(org.id);
  const status = state.form?.errors || state.error ? (state.error?.status ?? 400) : 200;
  return render(
    c,
    <>
      <PageHeader
        title="Storage"
        sub="Where snapshots of your volumes go: storage you own, encrypted by restic."
      />
      <StorageTabs c={c} current="targets" />
      <StorageFlash c={c} />
      {state.error && <Alert kind="error">{state.error.message}</Alert>}
      {targets.length
        ? <TargetsTable c={c} targets={targets} admin={can.admin} tested={state.tested} />
        : (
          <EmptyState title="No storage target yet">
            <p>
              Add one below: an S3-compatible bucket, a folder (or NAS share) on your hosts, or an
              SFTP server. The first one becomes the default.
            </p>
          </EmptyState>
        )}
      {can.admin && <AddTargetForms c={c} state={state} />}
    </>,
    { title: "Storage targets", active: "storage", status },
  );
}

/** The target a `:id` route names (NotFound otherwise, as a 404 page). */
async function targetOf(c: AppContext): Promise<TargetView> {
  const { org } = orgScopeOf(c);
  return await c.var.services.storageTargets.get(org.id, c.req.param("id") ?? "");
}

/**
 * Storage targets: list (viewers), add, test, verify, make default and delete with
 * confirmation (admins).
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  const PATH = "/o/:org/storage/targets";
  page(app, "GET", PATH, "org:viewer", (c) => targetsPage(c));

  page(app, "POST", PATH, "org:admin", async (c) => {
    const values = await readForm(c);
    const kind = (KINDS as string[]).includes(values.kind) ? values.kind as Kind : undefined;
    try {
      await c.var.services.storageTargets.create(
        actionContext(c),
        orgScopeOf(c).org.id,
        targetInputOf(values),
      );
      return seeOther(c, `${targetsHref(c)}?done=target_created`);
    } catch (err) {
      const e = formError(err);
      return await targetsPage(c, { kind, form: { values, errors: errorsOf(e) } });
    }
  });

  page(app, "POST", `${PATH}/:id/default`, "org:admin", async (c) => {
    const t = await targetOf(c);
    try {
      await c.var.services.storageTargets.update(actionContext(c), orgScopeOf(c).org.id, t.id, {
        is_default: true,
      });
      return seeOther(c, `${targetsHref(c)}?done=target_default`);
    } catch (err) {
      return await targetsPage(c, { error: formError(err) });
    }
  });

  page(app, "POST", `${PATH}/:id/test`, "org:admin", async (c) => {
    const t = await targetOf(c);
    try {
      const r = await c.var.services.storageConnection.test(
        actionContext(c),
        orgScopeOf(c).org.id,
        t.id,
      );
      const message = r.ok
        ? `Connected: wrote, read and deleted a probe in ${r.elapsed_ms} ms.`
        : `${r.step ? `The ${r.step} step failed: ` : ""}${r.message ?? "failed"}`;
      return await targetsPage(c, { tested: { id: t.id, ok: r.ok, message } });
    } catch (err) {
      return await targetsPage(c, { error: formError(err) });
    }
  });

  page(app, "POST", `${PATH}/:id/verify`, "org:admin", async (c) => {
    const t = await targetOf(c);
    try {
      await c.var.services.snapshotVerify.verifyNow(actionContext(c), orgScopeOf(c).org.id, t.id);
      return seeOther(c, `${targetsHref(c)}?done=target_verify_started`);
    } catch (err) {
      return await targetsPage(c, { error: formError(err) });
    }
  });

  page(app, "GET", `${PATH}/:id/delete`, "org:admin", async (c) => {
    const t = await targetOf(c);
    return render(
      c,
      <ConfirmForm
        title={`Remove storage target ${t.name}?`}
        action={`${targetsHref(c)}/${t.id}/delete`}
        confirm="Remove target"
        cancelHref={targetsHref(c)}
      >
        <p>
          Capstan forgets this target and its repository password. The repository at{" "}
          <code>{targetWhere(t)}</code>{" "}
          and the data in it are left where they are — without the password they cannot be read. A
          target that still holds snapshots cannot be removed: delete them first.
        </p>
      </ConfirmForm>,
      { title: "Remove storage target", active: "storage" },
    );
  });

  page(app, "POST", `${PATH}/:id/delete`, "org:admin", async (c) => {
    const t = await targetOf(c);
    try {
      await c.var.services.storageTargets.remove(actionContext(c), orgScopeOf(c).org.id, t.id);
      return seeOther(c, `${targetsHref(c)}?done=target_deleted`);
    } catch (err) {
      return await targetsPage(c, { error: formError(err) });
    }
  });
}
