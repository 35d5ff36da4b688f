/**
 * Swarm secrets (managers only): created from bytes, listed by label, removed. The engine never
 * gives a secret's data back, and nothing here logs or echoes it: a failed create names the
 * secret, never its value.
 */
import {
  type CallOptions,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { DockerInputError } from "./validate.ts";
import { labelMap, swarmId } from "./swarm.ts";
import { base64 } from "../util/ids.ts";

/** Swarm's rule for secret names (64 characters at most). */
const SECRET_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** A secret as the engine lists it (its data is never part of it). */
export interface SwarmSecret {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

/** Secret calls. */
export interface SecretsApi {
  listSecrets(opts?: { filters?: Filters } & CallOptions): Promise<SwarmSecret[]>;
  /** Creates a secret; 409 when the name is taken. */
  createSecret(
    spec: { name: string; labels?: Record<string, string>; data: Uint8Array },
    opts?: CallOptions,
  ): Promise<{ id: string }>;
  /** Removes a secret; the engine refuses (400/409) while a service uses it. */
  removeSecret(id: string, opts?: CallOptions): Promise<void>;
}

/** Checks a secret name (Docker's rule). */
export function secretName(name: string): string {
  if (!SECRET_NAME_RE.test(name)) {
    throw new DockerInputError("name", "must be a secret name: letters, digits, _ . -, at most 64");
  }
  return name;
}

/** The secret calls over one transport. */
export function secretsApi(t: EngineTransport): SecretsApi {
  return {
    listSecrets: async (opts = {}) =>
      await t.json({
        method: "GET",
        path: "/secrets",
        query: { filters: filtersParam(opts.filters) },
        signal: opts.signal,
      }),
    async createSecret(spec, opts = {}) {
      if (spec.data.length === 0 || spec.data.length > 500 * 1024) {
        throw new DockerInputError("data", "a secret holds 1 byte to 500 KB");
      }
      const r = await t.json<{ ID: string }>({
        method: "POST",
        path: "/secrets/create",
        body: {
          Name: secretName(spec.name),
          Labels: labelMap(spec.labels ?? {}, "labels"),
          Data: base64(spec.data),
        },
        signal: opts.signal,
      });
      return { id: r.ID };
    },
    removeSecret: async (id, opts = {}) =>
      await t.void({ method: "DELETE", path: `/secrets/${enc(swarmId(id))}`, signal: opts.signal }),
  };
}
