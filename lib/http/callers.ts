/**
 * Who is acting, in the domain's terms, from a request: the adapters the API and the pages share
 * so the use cases never see a request.
 */
import { actionContext, type AppContext, orgScopeOf } from "./context.ts";
import type { DockerCaller } from "../hosts/docker_actions.ts";
import type { AppCaller } from "../apps/service.ts";

/** The caller of a Docker action from a request behind an `org:*` policy. */
export function dockerCaller(c: AppContext): DockerCaller {
  const { org, role } = orgScopeOf(c);
  return {
    ctx: actionContext(c),
    orgId: org.id,
    role,
    tokenScope: c.get("principal")?.tokenScope,
  };
}

/** The caller of an app action from a request behind an `org:*` policy. */
export function appCaller(c: AppContext): AppCaller {
  const { role } = orgScopeOf(c);
  return { ctx: actionContext(c), role, tokenScope: c.get("principal")?.tokenScope };
}
