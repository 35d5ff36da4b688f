import { FormAlert, type FormState, TextField } from "./Field.tsx";

/** Change-password form: current password, new one twice. */
export function PasswordForm({ errors, email }: FormState & { email: string }) {
  return (
    <section class="card">
      <h2>Change password</h2>
      <p class="muted">Changing it signs you out everywhere else; this browser stays signed in.</p>
      <FormAlert errors={errors} />
      <form method="post" action="/account/password" class="form narrow">
        {/* Lets password managers know whose password this is. */}
        <input type="text" name="username" value={email} autocomplete="username" hidden />
        <TextField
          name="current"
          type="password"
          label="Current password"
          autocomplete="current-password"
          required
          errors={errors}
        />
        <TextField
          name="next"
          type="password"
          label="New password"
          autocomplete="new-password"
          hint="At least 10 characters."
          required
          errors={errors}
        />
        <TextField
          name="confirm"
          type="password"
          label="Confirm new password"
          autocomplete="new-password"
          required
          errors={errors}
        />
        <button class="btn btn-primary" type="submit">Change password</button>
      </form>
    </section>
  );
}
