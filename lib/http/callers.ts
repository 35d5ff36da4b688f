/**
 * Who is acting, in the domain's terms, from a request: the adapters the API and the pages share
 * so the use cases never see a request.
 */
import { actionContext, type AppContext, orgScopeOf, principalOf } from "./context.ts";
import type { DockerCaller } from "../hosts/docker_actions.ts";
import type { AppCaller } from "../apps/service.ts";
import type { RouteCaller } from "../proxy/service.ts";
import type { SecretCaller } from "../secrets/service.ts";
import type { TemplateCaller } from "../templates/service.ts";
import type { BuildCaller } from "../builds/service.ts";
import type { NasCaller } from "../nas/service.ts";

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

/** The caller of a route action from a request behind an `org:*` policy. */
export function routeCaller(c: AppContext): RouteCaller {
  const p = principalOf(c);
  return {
    ctx: actionContext(c),
    orgId: orgScopeOf(c).org.id,
    tokenScope: p.tokenScope,
    platformAdmin: p.isAdmin,
  };
}

/** The caller of a secret action from a request behind an `org:*` policy. */
export function secretCaller(c: AppContext): SecretCaller {
  return {
    ctx: actionContext(c),
    orgId: orgScopeOf(c).org.id,
    tokenScope: principalOf(c).tokenScope,
  };
}

/** The caller of a template action from a request behind an `org:*` policy. */
export function templateCaller(c: AppContext): TemplateCaller {
  const p = principalOf(c);
  const { org, role } = orgScopeOf(c);
  return {
    ctx: actionContext(c),
    orgId: org.id,
    role,
    tokenScope: p.tokenScope,
    platformAdmin: p.isAdmin,
  };
}

/** The caller of a build action from a request behind an `org:*` policy. */
export function buildCaller(c: AppContext): BuildCaller {
  const p = principalOf(c);
  return {
    ctx: actionContext(c),
    role: orgScopeOf(c).role,
    tokenScope: p.tokenScope,
    platformAdmin: p.isAdmin,
  };
}

/** The caller of a NAS action from a request behind an `org:*` policy (the same as a secret's). */
export const nasCaller: (c: AppContext) => NasCaller = secretCaller;
