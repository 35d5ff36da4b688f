import type { Hono } from "hono";
import { actionContext, type AppEnv, orgScopeOf } from "../../../../../lib/http/context.ts";
import { page } from "../../../../../lib/http/pages.ts";
import { island } from "../../../../../lib/islands/island.tsx";
import { rotateHostToken } from "../../../../../lib/hosts/use_cases.ts";
import CopyButton from "../../../../../islands/CopyButton.tsx";
import { PageHeader } from "../../../../../components/PageHeader.tsx";
import { ConfirmAction } from "../../../../../components/ConfirmAction.tsx";
import { NewToken } from "../../../../../components/NewToken.tsx";
import { Alert } from "../../../../../components/Alert.tsx";
import { formError } from "../../../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../../../_render.tsx";
import { hostOf, hostPage, hostPath } from "../[hostId].tsx";

const CopyButtonIsland = island("CopyButton", CopyButton);

/** Rotating a host's token (admins): confirmation, then the new token, shown once. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/hosts/:hostId/rotate", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <ConfirmAction
        title={`Rotate the token of “${host.name}”?`}
        action={`${path}/rotate`}
        confirm="Rotate token"
        cancelHref={path}
      >
        <p>The current host token stops working at once.</p>
        <p>
          {host.status === "online"
            ? "The agent is connected: it receives the new token over its connection, stores it and reconnects by itself."
            : "The agent is offline: you will have to write the new token into its token file (/var/lib/capstan-agent/host-token, mode 0600) and restart it."}
        </p>
      </ConfirmAction>,
      { title: "Rotate host token", active: "hosts" },
    );
  });

  page(app, "POST", "/o/:org/hosts/:hostId/rotate", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const host = await hostOf(c);
    let r;
    try {
      r = await rotateHostToken(c.var.services, actionContext(c), org.id, host.id);
    } catch (err) {
      const e = formError(err);
      return hostPage(c, kit, { error: e.message }, e.status);
    }
    const path = hostPath(org.slug, host.id);
    return render(
      c,
      <>
        <PageHeader title={`Token of “${host.name}” rotated`}>
          <a class="btn" href={path}>Back to the host</a>
        </PageHeader>
        {r.delivered
          ? (
            <Alert kind="ok">
              The connected agent stored the new token and is reconnecting with it. Nothing else to
              do; the token is below only in case you keep a copy elsewhere.
            </Alert>
          )
          : (
            <Alert kind="warn">
              The agent did not receive it (offline). Write the token into{" "}
              <code>/var/lib/capstan-agent/host-token</code>{" "}
              on the host (mode 0600, owned by the agent's user) and restart the agent:{" "}
              <code>systemctl restart capstan-agent</code>.
            </Alert>
          )}
        <NewToken
          name={`host token of ${host.name}`}
          token={r.host_token}
          copy={hasIsland(kit.manifest, "CopyButton") && (
            <CopyButtonIsland target="new-token-value" label="Copy token" />
          )}
        />
      </>,
      { title: "Host token rotated", active: "hosts", noStore: true, manifest: kit.manifest },
    );
  });
}
