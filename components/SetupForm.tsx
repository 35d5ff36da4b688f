import { FormAlert, type FormState, TextField } from "./Field.tsx";

/** First-run form: the first platform admin and the first organization. */
export function SetupForm({ values, errors, token }: FormState & { token: string }) {
  return (
    <section class="card auth-card wide">
      <h1>Set up Capstan</h1>
      <p class="muted">
        Create the first platform admin and an organization. This page works once: after it, the
        setup link stops working.
      </p>
      <FormAlert errors={errors} />
      <form method="post" action="/setup" class="form">
        <input type="hidden" name="token" value={token} />
        <fieldset>
          <legend>Your account</legend>
          <TextField
            name="name"
            label="Name"
            autocomplete="name"
            required
            autofocus
            values={values}
            errors={errors}
          />
          <TextField
            name="email"
            type="email"
            label="Email"
            autocomplete="username"
            required
            values={values}
            errors={errors}
          />
          <TextField
            name="password"
            type="password"
            label="Password"
            autocomplete="new-password"
            hint="At least 10 characters."
            required
            values={values}
            errors={errors}
          />
          <TextField
            name="confirm"
            type="password"
            label="Confirm password"
            autocomplete="new-password"
            required
            values={values}
            errors={errors}
          />
        </fieldset>
        <fieldset>
          <legend>Organization</legend>
          <TextField
            name="org_name"
            label="Organization name"
            placeholder="Acme Inc."
            required
            values={values}
            errors={errors}
          />
          <TextField
            name="org_slug"
            label="Organization slug"
            placeholder="acme"
            hint="Lowercase letters, digits and dashes; used in URLs such as /o/acme."
            required
            values={values}
            errors={errors}
          />
        </fieldset>
        <button class="btn btn-primary btn-block" type="submit">
          Create account and organization
        </button>
      </form>
    </section>
  );
}
