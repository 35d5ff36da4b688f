/**
 * What the Docker resource pages (containers, images, networks, volumes) share: the host picker,
 * the empty and offline states, their flash messages, and where a form goes back to. The frame of
 * the per-host pages (images, networks, volumes) is in _host_resource.tsx.
 */
import type { AppContext } from "../../../lib/http/context.ts";
import { orgScopeOf } from "../../../lib/http/context.ts";
import type { HttpError } from "../../../lib/http/errors.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { Alert } from "../../../components/Alert.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { httpErrorOf, safePath } from "../../_forms.ts";

/** A host as the pickers show it. */
export interface HostChoice {
  id: string;
  name: string;
  online: boolean;
}

/** The organization's hosts with whether each agent is connected now. */
export async function hostChoices(c: AppContext): Promise<HostChoice[]> {
  const { org } = orgScopeOf(c);
  const { hosts, agents } = c.var.services;
  return (await hosts.list(org.id)).map((h) => ({
    id: h.id,
    name: h.name,
    online: agents.isOnline(h.id),
  }));
}

/** The host a page is about: the one asked for if it exists, else the first online one. */
export function pickHost(hosts: HostChoice[], requested?: string): HostChoice | undefined {
  return hosts.find((h) => h.id === requested) ?? hosts.find((h) => h.online) ?? hosts[0];
}

/** "1 image", "3 images". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `/o/<slug>`. */
export function orgBase(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}`;
}

/** Whether the caller's role is at least member (may operate) or admin (may remove). */
export function abilities(c: AppContext): { operate: boolean; admin: boolean } {
  const { role } = orgScopeOf(c);
  const readOnly = c.get("principal")?.tokenScope === "read";
  return {
    operate: !readOnly && roleAtLeast(role, "member"),
    admin: !readOnly && roleAtLeast(role, "admin"),
  };
}

/** A GET form choosing the host a per-host page shows (works without JS). */
export function HostPicker(
  { action, hosts, current, hidden = {} }: {
    action: string;
    hosts: HostChoice[];
    current: HostChoice;
    hidden?: Record<string, string>;
  },
) {
  return (
    <form method="get" action={action} class="inline-form host-picker" aria-label="Choose a host">
      <label for="host-pick">Host</label>
      <select id="host-pick" name="host">
        {hosts.map((h) => (
          <option key={h.id} value={h.id} selected={h.id === current.id}>
            {h.name}
            {h.online ? "" : " (offline)"}
          </option>
        ))}
      </select>
      {Object.entries(hidden).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <button class="btn btn-small" type="submit">Show</button>
    </form>
  );
}

/** No hosts in the organization yet: where to add one. */
export function NoHostsYet({ base, what }: { base: string; what: string }) {
  return (
    <EmptyState title="No hosts yet">
      <p>
        {what} live on hosts. Once a host's agent connects, they appear here.{" "}
        <a href={`${base}/hosts`}>Go to Hosts</a> to add one.
      </p>
    </EmptyState>
  );
}

/** The chosen host's agent is not connected: nothing live can be shown or changed. */
export function HostOffline({ base, host }: { base: string; host: HostChoice }) {
  return (
    <EmptyState title={`${host.name} is offline`}>
      <p>
        Its agent is not connected, so its Docker engine cannot be asked right now. This page fills
        in as soon as the agent reconnects; the{" "}
        <a href={`${base}/hosts/${encodeURIComponent(host.id)}`}>host's page</a>{" "}
        shows when it was last seen.
      </p>
    </EmptyState>
  );
}

/** Whether an error means the host's agent is unreachable (shown as the offline state). */
export function isOffline(err: unknown): boolean {
  return httpErrorOf(err)?.status === 503;
}

/**
 * An action's error to show on the page (conflicts, refusals, an offline host); anything the user
 * cannot act on (sign-in, internal errors) goes to the error page instead.
 */
export function pageError(err: unknown): HttpError {
  const e = httpErrorOf(err);
  if (e && e.status !== 401 && e.status !== 500) return e;
  throw err;
}

/** Success messages `?ok=` may show on these pages; anything else is ignored, never echoed. */
const FLASH: Record<string, string> = {
  container_created: "Container created.",
  container_started: "Container started.",
  container_stopped: "Container stopped.",
  container_restarted: "Container restarted.",
  container_killed: "Container killed.",
  container_removed: "Container removed.",
  image_pulled: "Image pulled.",
  image_removed: "Image removed.",
  images_pruned: "Dangling images pruned.",
  network_created: "Network created.",
  network_removed: "Network removed.",
  volume_created: "Volume created.",
  volume_removed: "Volume removed.",
};

/** The flash message of this request, if its `?ok=` names one of ours. */
export function DockerFlash({ c }: { c: AppContext }) {
  const key = c.req.query("ok");
  return key && Object.hasOwn(FLASH, key) ? <Alert kind="ok">{FLASH[key]}</Alert> : null;
}

/** `path` with `?ok=key` (or `&ok=key`) set. */
export function withFlash(path: string, key: string): string {
  const url = new URL(path, "http://x.invalid");
  url.searchParams.set("ok", key);
  return url.pathname + url.search;
}

/**
 * Where a form goes back to: its `next` field, else the page it was posted from (same origin
 * only), else `fallback`. Never off this site.
 */
export function backTo(c: AppContext, next: string | undefined, fallback: string): string {
  if (next) return safePath(next, fallback);
  const referer = c.req.header("referer");
  if (referer && URL.canParse(referer)) {
    const from = new URL(referer);
    if (from.origin === new URL(c.req.url).origin) {
      from.searchParams.delete("ok");
      return safePath(from.pathname + from.search, fallback);
    }
  }
  return fallback;
}
