import type { ComponentChildren } from "preact";

/**
 * A just-created token, shown on this one response and never again. The copy button (an island)
 * is passed in by the page so this component stays free of client code.
 */
export function NewToken(
  { name, token, copy }: { name: string; token: string; copy?: ComponentChildren },
) {
  return (
    <section class="card new-token" aria-labelledby="new-token-title">
      <h2 id="new-token-title">Token “{name}” created</h2>
      <p class="warn-text">
        Copy it now: it is shown only once. Capstan stores only a hash, so it cannot show it again.
      </p>
      <div class="secret">
        <code id="new-token-value" class="secret-value">{token}</code>
        {copy}
      </div>
      <p class="muted small">
        Send it as <code>Authorization: Bearer &lt;token&gt;</code>; tokens in URLs are refused.
      </p>
    </section>
  );
}
