/**
 * Who may deploy what. Options that reach outside a service's containers (the host's network or
 * network, bind mounts of host paths, added capabilities) are for organization admins only, the
 * same rule as for containers; privileged mode, devices and the host's PID namespace are refused
 * for everyone, because Swarm services cannot have them.
 */
import { isDockerAdmin, type PolicyCaller } from "../hosts/container_policy.ts";
import type { AppSpec } from "./spec.ts";

/** A field the caller may not set, with why; `status` 403 (role) or 400 (never possible). */
export interface PolicyProblem {
  path: string;
  message: string;
  status: 400 | 403;
}

/** The policy problems of a spec for a caller; empty when it may deploy it. */
export function policyProblems(caller: PolicyCaller, spec: AppSpec): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const admin = isDockerAdmin(caller);
  spec.services.forEach((s, i) => {
    const at = (f: string) => `services.${i}.${f}`;
    if (s.privileged) {
      out.push({
        path: at("privileged"),
        message: "Swarm services cannot run privileged",
        status: 400,
      });
    }
    if (s.devices?.length) {
      out.push({ path: at("devices"), message: "Swarm services cannot use devices", status: 400 });
    }
    if (s.pid_mode === "host") {
      out.push({
        path: at("pid_mode"),
        message: "Swarm services cannot share the host's PID namespace",
        status: 400,
      });
    }
    if (admin) return;
    const only = (why: string) => `only organization admins may set this: ${why}`;
    if (s.network_mode === "host") {
      out.push({
        path: at("network_mode"),
        message: only("the host network exposes every host port"),
        status: 403,
      });
    }
    if (s.binds?.length) {
      out.push({ path: at("binds"), message: only("bind mounts expose host files"), status: 403 });
    }
    if (s.cap_add?.length) {
      out.push({
        path: at("cap_add"),
        message: only("added capabilities widen what the container may do"),
        status: 403,
      });
    }
  });
  return out;
}
