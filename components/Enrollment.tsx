import type { ComponentChildren } from "preact";
import { Time } from "./Time.tsx";

/**
 * A host's single-use enrollment token and the install command, shown on this one response only.
 * The copy button (an island) is passed in so this component stays free of client code.
 */
export function Enrollment(
  { hostName, token, command, expiresAt, copy, hostHref }: {
    hostName: string;
    token: string;
    command: string;
    expiresAt: number;
    copy?: ComponentChildren;
    hostHref: string;
  },
) {
  return (
    <section class="card new-token" aria-labelledby="enroll-title">
      <h2 id="enroll-title">Install the agent on “{hostName}”</h2>
      <p>
        Run this on the host as root. It installs Deno if needed, the Capstan agent and a systemd
        service; the agent then dials out to this hub, so no port needs to be opened on the host.
      </p>
      <div class="secret">
        <code id="install-command" class="secret-value">{command}</code>
        {copy}
      </div>
      <p class="warn-text">
        The enrollment token in it works once and until <Time ms={expiresAt} />{" "}
        (one hour). It is shown only now; if it expires, issue a new one from the{" "}
        <a href={hostHref}>host's page</a>.
      </p>
      <details>
        <summary>The token alone, and other ways to run the agent</summary>
        <p>
          Token: <code>{token}</code>
        </p>
        <p class="muted small">
          Without the script: <code>CAPSTAN_HUB_URL=… CAPSTAN_ENROLL_TOKEN=… deno task agent</code>
          {" "}
          from a checkout. End the command with <code>sh -s -- --root</code>{" "}
          to run the agent as root instead of as a <code>capstan-agent</code> user in the{" "}
          <code>docker</code> group.
        </p>
      </details>
    </section>
  );
}
