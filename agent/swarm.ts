import type * as z from "zod";
import { type DockerClient, DockerError } from "../lib/docker/client.ts";
import { SWARM_CALL_OPS, SWARM_STREAM_OPS } from "../lib/protocol/swarm.ts";

type SwarmCalls = {
  [O in keyof typeof SWARM_CALL_OPS]: (
    p: z.output<(typeof SWARM_CALL_OPS)[O]>,
  ) => Promise<unknown>;
};

/** Whether a path exists (a /proc entry that shows a kernel feature). */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether overlay networks can be encrypted here: the kernel has XFRM and the AEAD Docker's
 * IPsec uses (AES-GCM), loaded or loadable as a module. XFRM alone is not enough: without the
 * cipher the engine installs the policy but no key, and every packet between nodes is dropped.
 */
async function ipsecWorks(): Promise<boolean> {
  if (!(await exists("/proc/net/xfrm_stat"))) return false;
  const crypto = await Deno.readTextFile("/proc/crypto").catch(() => "");
  if (/^name\s*:\s*(?:rfc4106\()?gcm\(aes\)\)?\s*$/m.test(crypto)) return true;
  try {
    for await (const e of Deno.readDir(`/lib/modules/${Deno.osRelease()}/kernel/crypto`)) {
      if (/^gcm\.ko(?:\.(?:xz|gz|zst))?$/.test(e.name)) return true;
    }
  } catch {
    // no modules directory: only what is built in counts
  }
  return false;
}

/**
 * Runs a read-modify-write against a swarm object again when the engine says the version it was
 * read at is stale ("update out of sequence"): Swarm bumps a service's version itself while an
 * update or rollback progresses, so a second writer is not the only cause.
 */
async function atCurrentVersion<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (err) {
      const stale = err instanceof DockerError && /out of sequence/i.test(err.message);
      if (!stale || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/**
 * The agent's Swarm operations against its local engine. Manager-only calls fail with the
 * engine's own 503 ("This node is not a swarm manager") on a worker, which the hub shows as is.
 */
export function swarmCalls(docker: DockerClient, opts: () => { signal: AbortSignal }): SwarmCalls {
  return {
    "swarm.state": async () => {
      const info = await docker.info(opts());
      const s = info.Swarm ?? {};
      return {
        node_id: s.NodeID ?? "",
        state: s.LocalNodeState ?? "inactive",
        manager: s.ControlAvailable === true,
        cluster_id: (s as { Cluster?: { ID?: string } }).Cluster?.ID ?? "",
        node_addr: (s as { NodeAddr?: string }).NodeAddr ?? "",
        error: (s as { Error?: string }).Error ?? "",
        // What the kernel offers Swarm's networking: IPVS carries the routing mesh (virtual IPs,
        // ingress ports); XFRM with AES-GCM carries encrypted overlay networks.
        kernel: {
          ipvs: await exists("/proc/net/ip_vs"),
          xfrm: await ipsecWorks(),
        },
      };
    },
    "swarm.init": async (p) => ({
      node_id: await docker.swarmInit(
        { advertiseAddr: p.advertise_addr, listenAddr: p.listen_addr },
        opts(),
      ),
    }),
    "swarm.join_tokens": async () => {
      const [swarm, info] = await Promise.all([docker.swarmInspect(opts()), docker.info(opts())]);
      const addr = (info.Swarm as { NodeAddr?: string } | undefined)?.NodeAddr;
      return {
        worker: swarm.JoinTokens.Worker,
        manager: swarm.JoinTokens.Manager,
        manager_addr: addr ? `${addr.includes(":") ? `[${addr}]` : addr}:2377` : "",
      };
    },
    "swarm.join": async (p) => {
      await docker.swarmJoin({
        remoteAddrs: p.remote_addrs,
        joinToken: p.token,
        advertiseAddr: p.advertise_addr,
      }, opts());
      return {};
    },
    "swarm.leave": async (p) => {
      await docker.swarmLeave({ force: p.force, ...opts() });
      return {};
    },
    "nodes.list": async () => await docker.listNodes(opts()),
    "node.update": async (p) => {
      // Read-modify-write at the version read, so a concurrent change is never silently lost.
      await atCurrentVersion(async () => {
        const node = await docker.inspectNode(p.id, opts());
        await docker.updateNode(p.id, node.Version.Index, {
          ...node.Spec,
          Role: p.role ?? node.Spec.Role,
          Availability: p.availability ?? node.Spec.Availability,
          Labels: p.labels ?? node.Spec.Labels ?? {},
        }, opts());
      });
      return {};
    },
    "node.remove": async (p) => {
      await docker.removeNode(p.id, { force: p.force, ...opts() });
      return {};
    },
    "services.list": async (p) =>
      await docker.listServices({ filters: p.label ? { label: p.label } : undefined, ...opts() }),
    "swarm.network_ensure": async (p) => {
      const found = (await docker.listNetworks({ filters: { name: [p.name] }, ...opts() }))
        .find((n) => n.Name === p.name);
      if (found) return { id: found.Id, created: false };
      try {
        const r = await docker.createNetwork({
          name: p.name,
          driver: "overlay",
          attachable: true,
          labels: p.labels,
          options: p.encrypted ? { encrypted: "" } : undefined,
        }, opts());
        return { id: r.id, created: true };
      } catch (err) {
        // Two deploys of one organization at once: the other one made it first.
        if (err instanceof DockerError && err.status === 409) {
          const again = (await docker.listNetworks({ filters: { name: [p.name] }, ...opts() }))
            .find((n) => n.Name === p.name);
          if (again) return { id: again.Id, created: false };
        }
        throw err;
      }
    },
    "swarm.network_remove": async (p) => {
      const found = (await docker.listNetworks({ filters: { name: [p.name] }, ...opts() }))
        .find((n) => n.Name === p.name);
      if (!found) return { removed: false };
      if (!found.Labels?.["capstan.org"]) {
        throw new DockerError(403, `network ${p.name} was not created by Capstan`);
      }
      try {
        await docker.removeNetwork(found.Id, opts());
      } catch (err) {
        if (err instanceof DockerError && err.status === 404) return { removed: false };
        throw err;
      }
      return { removed: true };
    },
    "swarm.secret_ensure": async (p) => {
      const find = async () =>
        (await docker.listSecrets({ filters: { name: [p.name] }, ...opts() }))
          .find((s) => s.Spec.Name === p.name);
      const found = await find();
      if (found) return { id: found.ID, created: false };
      const data = Uint8Array.from(atob(p.data), (c) => c.charCodeAt(0));
      try {
        return {
          id: (await docker.createSecret({ name: p.name, labels: p.labels, data }, opts())).id,
          created: true,
        };
      } catch (err) {
        // Two deployments of one organization at once: the other one made it first.
        if (err instanceof DockerError && err.status === 409) {
          const again = await find();
          if (again) return { id: again.ID, created: false };
        }
        throw err;
      } finally {
        data.fill(0);
      }
    },
    "swarm.secrets_prune": async (p) => {
      const [secrets, services] = await Promise.all([
        docker.listSecrets({ filters: { label: [`capstan.org=${p.org}`] }, ...opts() }),
        docker.listServices(opts()),
      ]);
      const used = new Set<string>();
      // A previous spec counts while an update runs (Swarm may roll back to it); once the
      // update completed, Capstan's own rollback makes what it needs again.
      const updating = /^(updating|paused|rollback_started|rollback_paused)$/;
      for (const s of services) {
        const previous = updating.test(s.UpdateStatus?.State ?? "")
          ? (s as { PreviousSpec?: typeof s.Spec }).PreviousSpec
          : undefined;
        const specs = [s.Spec, previous];
        for (const spec of specs) {
          for (const r of spec?.TaskTemplate.ContainerSpec.Secrets ?? []) used.add(r.SecretID);
        }
      }
      const removed: string[] = [];
      const keep = new Set(p.keep);
      const youngest = Date.now() - p.min_age_s * 1000;
      for (const s of secrets) {
        if (used.has(s.ID) || keep.has(s.Spec.Name) || !s.Spec.Name.startsWith("capstan_")) {
          continue;
        }
        if (Date.parse(s.CreatedAt) > youngest) continue;
        try {
          await docker.removeSecret(s.ID, opts());
          removed.push(s.Spec.Name);
        } catch (err) {
          // Still in use by a task that is shutting down: the next prune takes it.
          if (!(err instanceof DockerError)) throw err;
        }
      }
      return { removed };
    },
    "service.inspect": async (p) => await docker.inspectService(p.id, opts()),
    "service.create": async (p) => await docker.createService(p.spec, opts()),
    "service.update": (p) =>
      atCurrentVersion(async () => {
        const current = await docker.inspectService(p.id, opts());
        return await docker.updateService(p.id, current.Version.Index, p.spec, opts());
      }),
    "service.rollback": (p) =>
      atCurrentVersion(async () => {
        const current = await docker.inspectService(p.id, opts());
        return await docker.updateService(
          p.id,
          current.Version.Index,
          { rollbackFrom: current.Spec },
          opts(),
        );
      }),
    "service.scale": (p) =>
      atCurrentVersion(async () => {
        const current = await docker.inspectService(p.id, opts());
        if (!("Replicated" in current.Spec.Mode)) {
          throw new DockerError(
            400,
            "a global service runs one task per node and cannot be scaled",
          );
        }
        await docker.updateServiceRaw(p.id, current.Version.Index, {
          ...current.Spec,
          Mode: { Replicated: { Replicas: p.replicas } },
        }, opts());
        return {};
      }),
    "service.remove": async (p) => {
      await docker.removeService(p.id, opts());
      return {};
    },
    "tasks.list": async (p) => await docker.listTasks({ filters: p.filters, ...opts() }),
    "image.inspect": async (p) => {
      const i = await docker.inspectImage(p.ref, opts());
      return { id: i.Id, repo_digests: i.RepoDigests ?? [], repo_tags: i.RepoTags ?? [] };
    },
  };
}

/** Streams the log lines of a service's tasks, batched like container logs. */
export async function serviceLogs(
  docker: DockerClient,
  params: unknown,
  emitLines: (lines: AsyncIterable<unknown>) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const p = SWARM_STREAM_OPS["service.logs"].parse(params ?? {});
  const s = await docker.serviceLogs(p.id, {
    follow: p.follow,
    tail: p.tail,
    timestamps: p.timestamps,
    signal,
  });
  signal.addEventListener("abort", () => void s.close(), { once: true });
  await emitLines(s);
}
