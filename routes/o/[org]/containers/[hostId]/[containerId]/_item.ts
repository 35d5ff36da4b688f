/**
 * What the actions on one container share: the container a path names, and running a lifecycle
 * action then going back once its event reached the cache.
 */
import { z } from "zod";
import { type AppContext, orgScopeOf } from "../../../../../../lib/http/context.ts";
import { dockerCaller } from "../../../../../../lib/http/callers.ts";
import { validationError } from "../../../../../../lib/http/errors.ts";
import { ContainerRef } from "../../../../../../lib/protocol/ops.ts";
import {
  type ContainerAction,
  containerAction,
} from "../../../../../../lib/hosts/docker_actions.ts";
import {
  findContainer,
  waitForContainer,
} from "../../../../../../lib/hosts/container_use_cases.ts";
import { HostId } from "../../../../../_schemas/docker.ts";
import { type PageKit, seeOther } from "../../../../../_render.tsx";
import { backTo, orgBase, pageError, withFlash } from "../../../_docker.tsx";
import { listPage } from "../../index.tsx";

/** The container page's path; its actions are below it. */
export const ITEM = "/o/:org/containers/:hostId/:containerId";

const PAST: Record<ContainerAction, string> = {
  start: "started",
  stop: "stopped",
  restart: "restarted",
  kill: "killed",
};

/** The host and container of an item route, validated like the API (400 naming the field). */
export async function itemOf(c: AppContext) {
  const parsed = z.object({ hostId: HostId, id: ContainerRef }).safeParse({
    hostId: c.req.param("hostId"),
    id: c.req.param("containerId"),
  });
  if (!parsed.success) throw validationError(parsed.error);
  const { org } = orgScopeOf(c);
  const host = await c.var.services.hosts.get(org.id, parsed.data.hostId);
  const cached = await findContainer(c.var.services, org.id, host.id, parsed.data.id);
  return { host, id: parsed.data.id, name: cached?.name ?? parsed.data.id, cached };
}

/** Runs a lifecycle action, waits briefly for its event to reach the cache, then goes back. */
export async function act(
  c: AppContext,
  kit: PageKit,
  action: ContainerAction,
  next: string | undefined,
  opts: { signal?: string },
): Promise<Response> {
  const { host, id, cached } = await itemOf(c);
  const { org } = orgScopeOf(c);
  const since = c.var.services.clock.now();
  try {
    await containerAction(c.var.services, dockerCaller(c), host.id, id, action, opts);
  } catch (err) {
    return await listPage(c, kit, pageError(err));
  }
  // The answer can arrive before the event that updates the cache: wait for the state it implies.
  const running = action === "start" || action === "restart";
  if (cached) {
    await waitForContainer(
      c.var.services,
      org.id,
      host.id,
      id,
      (x) => !x || (x.updated_at >= since && (x.state === "running") === running),
    );
  }
  const back = backTo(c, next, `${orgBase(c)}/containers`);
  return seeOther(c, withFlash(back, `container_${PAST[action]}`));
}
