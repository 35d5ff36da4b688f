import type { ShellOrg } from "./Layout.tsx";

/** Organization switcher: a GET form to `/` (no JS), or just the name when there is one org. */
export function OrgSwitcher({ orgs, current }: { orgs: ShellOrg[]; current: ShellOrg | null }) {
  if (orgs.length === 1) {
    return (
      <div class="org-switcher">
        <span class="org-label">Organization</span>
        <a class="org-name" href={`/o/${encodeURIComponent(orgs[0].slug)}`}>{orgs[0].name}</a>
      </div>
    );
  }
  return (
    <form class="org-switcher" method="get" action="/">
      <label class="org-label" for="org-switch">Organization</label>
      <div class="inline-form">
        <select id="org-switch" name="org">
          {orgs.map((o) => (
            <option key={o.slug} value={o.slug} selected={o.slug === current?.slug}>
              {o.name}
            </option>
          ))}
        </select>
        <button class="btn" type="submit">Go</button>
      </div>
    </form>
  );
}
