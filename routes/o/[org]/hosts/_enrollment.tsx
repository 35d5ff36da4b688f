/**
 * What the add-host flow and a fresh enrollment token show: the single-use enrollment with its
 * install command, and a warning when agents elsewhere could not reach the hub's address.
 */
import { type AppContext, orgScopeOf } from "../../../../lib/http/context.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { hubUrlOf, isLoopbackHost } from "../../../../lib/agents/install_script.ts";
import { HubAddressWarning } from "../../../../components/HubAddressWarning.tsx";
import CopyButton from "../../../../islands/CopyButton.tsx";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Enrollment } from "../../../../components/Enrollment.tsx";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";

const CopyButtonIsland = island("CopyButton", CopyButton);

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/**
 * The warning an install command needs when agents elsewhere could not reach the hub's URL (a
 * loopback address: CAPSTAN_PUBLIC_URL unset and the hub on 127.0.0.1), or nothing.
 */
export function hubAddressWarning(c: AppContext) {
  const hubUrl = hubUrlOf(c);
  if (!isLoopbackHost(new URL(hubUrl).hostname)) return null;
  const listen = c.var.services.config.host;
  return <HubAddressWarning hubUrl={hubUrl} listensOnLoopback={isLoopbackHost(listen)} />;
}

/** Shows a single-use enrollment (new host or a fresh token); never cached, never in a URL. */
export function enrollmentPage(
  c: AppContext,
  kit: PageKit,
  e: { hostName: string; hostId: string; token: string; command: string; expiresAt: number },
) {
  const { org } = orgScopeOf(c);
  const hostHref = `${base(org.slug)}/hosts/${encodeURIComponent(e.hostId)}`;
  return render(
    c,
    <>
      <PageHeader title={`Add host “${e.hostName}”`} sub="One step left: run the agent on it.">
        <a class="btn" href={hostHref}>Go to the host</a>
      </PageHeader>
      {hubAddressWarning(c)}
      <Enrollment
        hostName={e.hostName}
        token={e.token}
        command={e.command}
        expiresAt={e.expiresAt}
        hostHref={hostHref}
        copy={hasIsland(kit.manifest, "CopyButton") && (
          <CopyButtonIsland target="install-command" label="Copy command" />
        )}
      />
      <p class="muted">
        The host shows as <strong>online</strong> on the{" "}
        <a href={`${base(org.slug)}/hosts`}>Hosts</a> page within seconds of the agent starting.
      </p>
    </>,
    { title: "Add host", active: "hosts", noStore: true, manifest: kit.manifest },
  );
}
