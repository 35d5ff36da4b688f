import type { HostDetail } from "../lib/hosts/view.ts";
import { FormAlert, type FormState, TextField } from "./Field.tsx";
import { LabelsField } from "./LabelsField.tsx";

/** An org admin's controls on a host: rename, labels, enrollment, token rotation, removal. */
export function HostAdmin(
  { host, path, rename, labels }: {
    host: HostDetail;
    path: string;
    rename: FormState;
    labels: FormState;
  },
) {
  return (
    <div class="grid-2">
      <section class="card" aria-labelledby="rename-title">
        <h2 id="rename-title">Rename</h2>
        <FormAlert errors={rename.errors} />
        <form method="post" action={`${path}/rename`} class="form">
          <TextField
            name="name"
            label="Name"
            idPrefix="rename"
            required
            maxLength={64}
            values={rename.values}
            errors={rename.errors}
          />
          <div class="form-submit">
            <button class="btn" type="submit">Rename</button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="labels-edit-title">
        <h2 id="labels-edit-title">Edit labels</h2>
        <form method="post" action={`${path}/labels`} class="form">
          <LabelsField idPrefix="labels" values={labels.values} errors={labels.errors} />
          <div class="form-submit">
            <button class="btn" type="submit">Save labels</button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="access-title">
        <h2 id="access-title">Agent access</h2>
        {host.local
          ? (
            <p class="muted">
              The hub runs this agent itself, in-process: there is no token to rotate or install.
            </p>
          )
          : host.enrolled
          ? (
            <>
              <p>
                Rotate the host token if it may have leaked. A connected agent picks up the new one
                by itself.
              </p>
              <a class="btn" href={`${path}/rotate`}>Rotate token…</a>
            </>
          )
          : (
            <form method="post" action={`${path}/enrollment`}>
              <p>
                Enrollment tokens are single-use and valid for one hour. A new one replaces any
                unused one.
              </p>
              <button class="btn" type="submit">New enrollment token</button>
            </form>
          )}
      </section>
      <section class="card" aria-labelledby="remove-title">
        <h2 id="remove-title">Remove</h2>
        <p>Disconnects the agent and revokes its token at once.</p>
        <a class="btn btn-danger-ghost" href={`${path}/remove`}>Remove host…</a>
      </section>
    </div>
  );
}
