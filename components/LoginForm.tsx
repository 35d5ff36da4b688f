import { FormAlert, type FormState, TextField } from "./Field.tsx";

/** The sign-in form; `next` rides along in a hidden field. */
export function LoginForm({ values, errors, next }: FormState & { next: string }) {
  return (
    <section class="card auth-card">
      <h1>Sign in</h1>
      <FormAlert errors={errors} />
      <form method="post" action="/login" class="form">
        <input type="hidden" name="next" value={next} />
        <TextField
          name="email"
          type="email"
          label="Email"
          autocomplete="username"
          required
          autofocus
          values={values}
          errors={errors}
        />
        <TextField
          name="password"
          type="password"
          label="Password"
          autocomplete="current-password"
          required
          values={values}
          errors={errors}
        />
        <button class="btn btn-primary btn-block" type="submit">Sign in</button>
      </form>
      <p class="muted small">
        No account yet? A platform admin of this hub creates accounts under Users.
      </p>
    </section>
  );
}
