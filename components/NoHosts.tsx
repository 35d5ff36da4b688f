import { EmptyState } from "./EmptyState.tsx";

/** The dashboard before any host reports: what Capstan will show here and the next steps. */
export function NoHosts({ base, isAdmin }: { base: string; isAdmin: boolean }) {
  return (
    <EmptyState title="No hosts yet">
      <p>
        Hosts appear here once the Capstan agent runs on them and reports to this hub. An{" "}
        <strong>Add a host</strong> button will appear here with the command to install the agent.
      </p>
      <ol class="steps">
        <li>
          <a href={`${base}/members`}>{isAdmin ? "Add your team" : "See who is here"}</a>{" "}
          — members and their roles in this organization.
        </li>
        <li>
          <a href="/account/tokens">Create an API token</a> to script Capstan from CI or a terminal.
        </li>
        <li>
          Read the{" "}
          <a href="/docs/api">API reference</a>: everything on these pages is also an API call.
        </li>
      </ol>
    </EmptyState>
  );
}
