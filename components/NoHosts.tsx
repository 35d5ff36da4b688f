import { EmptyState } from "./EmptyState.tsx";

/** The dashboard before any host reports: how to add one, and the other first steps. */
export function NoHosts({ base, isAdmin }: { base: string; isAdmin: boolean }) {
  return (
    <EmptyState title="No hosts yet">
      <p>
        Hosts appear here once the Capstan agent runs on them and connects to this hub. A hub that
        runs next to a Docker engine adds that engine by itself.
      </p>
      {isAdmin && (
        <p>
          <a class="btn btn-primary" href={`${base}/hosts/new`}>Add a host</a>
        </p>
      )}
      <ol class="steps">
        {!isAdmin && <li>Ask an admin of this organization to add a host.</li>}
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
