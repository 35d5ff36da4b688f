import type { HttpError } from "../lib/http/errors.ts";

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Sign-in required",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  415: "Unsupported",
  422: "Cannot process",
  429: "Too many requests",
  500: "Something went wrong",
  503: "Not ready",
};

/** Title of an error page for a status. */
export function errorTitle(status: number): string {
  return TITLES[status] ?? "Error";
}

/** Status, message and a way on: sign in for 401, home otherwise. */
export function ErrorPage({ err, signInHref }: { err: HttpError; signInHref?: string }) {
  return (
    <section class="error-page">
      <p class="error-status">{err.status}</p>
      <h1>{errorTitle(err.status)}</h1>
      <p>{err.message}</p>
      <p class="actions">
        {err.status === 401 && signInHref
          ? <a class="btn btn-primary" href={signInHref}>Sign in</a>
          : <a class="btn" href="/">Go to the dashboard</a>}
      </p>
    </section>
  );
}
