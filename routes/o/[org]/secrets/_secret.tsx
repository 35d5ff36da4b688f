/**
 * What the secret pages share: their links, who may change secrets, the flash messages after an
 * action, the words of the rotation modes, the apps that use a secret, the names of the people
 * who changed one, and reading a submitted value (pasted or uploaded). Values are write-only:
 * nothing here renders one, and a value read from a form never goes back into a page.
 */
import { Buffer } from "node:buffer";
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import { roleAtLeast } from "../../../../lib/auth/principal.ts";
import { MAX_SECRET_BYTES, type SecretUse } from "../../../../lib/secrets/service.ts";
import { Alert } from "../../../../components/Alert.tsx";
import type { FieldErrors, FormValues } from "../../../_forms.ts";

export { actionError } from "../apps/_app.tsx";

/** `/o/<slug>/secrets`. */
export function secretsBase(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/secrets`;
}

/** `/o/<slug>/secrets/<name>`. */
export function secretHref(c: AppContext, name: string): string {
  return `${secretsBase(c)}/${encodeURIComponent(name)}`;
}

/**
 * The new-secret page. Not `/new`: "new" is a valid secret name, and its page would be hidden
 * behind the form; a name never has a dash.
 */
export function newSecretHref(c: AppContext): string {
  return `${secretsBase(c)}/new-secret`;
}

/** `/o/<slug>/apps/<name>`. */
export function appHrefOf(c: AppContext, app: string): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/apps/${encodeURIComponent(app)}`;
}

/**
 * Whether the caller may create, rotate and delete secrets: an organization admin or owner, not
 * through a read-only token (the API's policy; members attach secrets to apps, viewers read).
 */
export function mayChange(c: AppContext): boolean {
  const { role } = orgScopeOf(c);
  return c.get("principal")?.tokenScope !== "read" && roleAtLeast(role, "admin");
}

/** Messages `?done=` may show on the secret pages; anything else is ignored, never echoed. */
const DONE: Record<string, string> = {
  created: "Secret created. Its value is stored encrypted and is never shown again.",
  rotated_rolling:
    "New version saved. Apps that use it restart one task at a time, new tasks first.",
  rotated_restart: "New version saved. Apps that use it restart now, old tasks first.",
  rotated_next_deploy: "New version saved. Apps that use it get it at their next deployment.",
  described: "Description saved.",
  deleted: "Secret deleted with all its versions.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function SecretFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/** How one app gets a secret: per service, the variable and/or the file. */
export function UseList({ c, uses }: { c: AppContext; uses: SecretUse[] }) {
  return (
    <ul class="secret-uses">
      {uses.map((u) => (
        <li key={u.app_id} data-secret-use={u.app}>
          <a href={appHrefOf(c, u.app)}>{u.app}</a>
          {u.services.map((s) => (
            <span key={s.service} class="secret-use-service small">
              {" "}
              <span class="muted">{s.service}:</span>
              {s.env && (
                <>
                  {" "}env <code>{s.env}</code>
                </>
              )}
              {s.env && s.file && <span class="muted">,</span>}
              {s.file && (
                <>
                  {" "}file <code>{s.file}</code>
                </>
              )}
            </span>
          ))}
        </li>
      ))}
    </ul>
  );
}

/**
 * Users by id as "by whom" reads (their email, as the trail and the audit log name them); a
 * deleted account reads "a removed user", no one at all "Capstan".
 */
export async function userNames(
  c: AppContext,
  ids: (string | null | undefined)[],
): Promise<(id: string | null | undefined) => string> {
  const unique = [...new Set(ids.filter((x): x is string => Boolean(x)))];
  const found = await Promise.all(unique.map((id) => c.var.services.users.byId(id)));
  const names = new Map(unique.map((id, i) => [id, found[i]?.email]));
  return (id) => (id ? names.get(id) ?? "a removed user" : "Capstan");
}

/** A submitted form: its text fields and, when one was chosen, the uploaded file. */
export interface SecretForm {
  values: FormValues;
  file?: File;
}

/**
 * Reads a urlencoded or multipart submission; the file input `value_file` is kept as a File (the
 * shared `readForm` drops files: no other page takes uploads). An empty file input is no file.
 */
export async function readSecretForm(c: AppContext): Promise<SecretForm> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    return { values: {} };
  }
  const body = await c.req.parseBody();
  const values: FormValues = {};
  let file: File | undefined;
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") values[k] = v;
    else if (k === "value_file" && v instanceof File && (v.size > 0 || v.name)) file = v;
  }
  return { values, file };
}

/**
 * The value of a submission as the service takes it: pasted text as `value`, a file as
 * `value_base64` (the service tells text from binary). Exactly one is required; a file over the
 * limit is refused here with its size, before it is read. Browsers send a textarea's line breaks
 * as CRLF whatever was pasted, so they are turned back into LF; a file keeps its exact bytes.
 */
export async function valueOf(
  form: SecretForm,
): Promise<
  { ok: true; input: { value: string } | { value_base64: string } } | {
    ok: false;
    errors: FieldErrors;
  }
> {
  const text = form.values.value ?? "";
  const file = form.file;
  if (text !== "" && file) {
    return { ok: false, errors: { value: "paste a value or choose a file, not both" } };
  }
  if (file) {
    if (file.size === 0) return { ok: false, errors: { value_file: "the file is empty" } };
    if (file.size > MAX_SECRET_BYTES) {
      return {
        ok: false,
        errors: {
          value_file: `the file is ${Math.ceil(file.size / 1024)} KB; a secret holds at most ${
            MAX_SECRET_BYTES / 1024
          } KB`,
        },
      };
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const value_base64 = Buffer.from(bytes).toString("base64");
    bytes.fill(0);
    return { ok: true, input: { value_base64 } };
  }
  if (text === "") {
    return { ok: false, errors: { value: "is required: paste it, or choose a file" } };
  }
  return { ok: true, input: { value: text.replace(/\r\n/g, "\n") } };
}

/** The service's field messages on the form's fields (`value_base64` is the file input's). */
export function secretFormErrors(fields: Record<string, string>): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(fields)) {
    const field = k === "value_base64" ? "value_file" : k;
    out[field] ??= v;
  }
  return out;
}
