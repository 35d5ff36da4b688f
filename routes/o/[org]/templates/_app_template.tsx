/**
 * What the app page shows of the template an app came from: "From template <name> <version>"
 * with a link to its provisioning, and for admins the way to deprovision it.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import type { App } from "../../../../lib/apps/store.ts";
import type { Provision } from "../../../../lib/templates/store.ts";
import { mayEdit, provisionHref, templateHref } from "./_template.tsx";

/** The template an app came from, as the app page names it. */
export interface TemplateOrigin {
  provision: Provision;
  /** The template's name, or its id once an organization template is deleted. */
  name: string;
  /** Its page, while it exists. */
  href: string | null;
  provisionHref: string;
  /** The deprovision page, for those who may (organization admins). */
  deprovisionHref: string | null;
}

/** The app's template origin, or undefined for an app not made from a template. */
export async function templateOrigin(
  c: AppContext,
  app: App,
  appHref: string,
): Promise<TemplateOrigin | undefined> {
  const { templates } = c.var.services;
  const p = await templates.store.ofApp(app.id);
  if (!p) return undefined;
  const t = await templates.get(app.org_id, p.template_id).catch(() => undefined);
  return {
    provision: p,
    name: t?.name ?? p.template_id,
    href: t ? templateHref(c, p.template_id) : null,
    provisionHref: provisionHref(c, p.id),
    deprovisionHref: mayEdit(c) ? `${appHref}/deprovision` : null,
  };
}

/** The line under the app's header. */
export function FromTemplate({ origin }: { origin: TemplateOrigin }) {
  const p = origin.provision;
  return (
    <p
      class="app-template"
      data-template={p.template_id}
      data-template-version={p.template_version}
    >
      From template{" "}
      {origin.href ? <a href={origin.href}>{origin.name}</a> : <strong>{origin.name}</strong>}{" "}
      <span class="badge">{p.template_version}</span> ·{" "}
      <a href={origin.provisionHref}>provisioning</a>
      {p.domain && (
        <>
          {" "}· <code>{p.domain}</code>
        </>
      )}
    </p>
  );
}

/** The danger zone's deprovision entry (admins). */
export function DeprovisionZone({ origin }: { origin: TemplateOrigin }) {
  if (!origin.deprovisionHref) return null;
  return (
    <section class="card danger-zone" aria-labelledby="deprovision-title">
      <h2 id="deprovision-title">Deprovision this site</h2>
      <p>
        Removes what the template made: its routes, its services and its secrets. Volumes and the
        data on them are kept unless you ask.
      </p>
      <a class="btn btn-danger-ghost" href={origin.deprovisionHref}>Deprovision…</a>
    </section>
  );
}
