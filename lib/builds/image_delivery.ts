/**
 * How a built image reaches the nodes that may run it. With a registry (CAPSTAN_REGISTRY_URL)
 * the worker tags and pushes it, and the deployment names the registry's reference, so any node
 * pulls it. Without one, the worker's agent streams `docker save` to the agent of every other
 * node in the cluster, which loads it (the app page says images are copied); the deployment
 * names the local tag, present on every node.
 */
import type { Logger } from "../log.ts";
import type { AgentCaller } from "../apps/gateway.ts";
import type { NodeView } from "../apps/cluster.ts";
import type { Build } from "./store.ts";
import { copyImage, pushImage } from "./distribute.ts";

export interface DistributorDeps {
  registry?: { url: string; username?: string; passwordFile?: string };
  agent(hostId: string): AgentCaller | undefined;
  nodes(): Promise<NodeView[]>;
  log: Logger;
}

export function createDistributor(deps: DistributorDeps) {
  return {
    /** Whether images travel through a registry (else: copied node to node). */
    viaRegistry: Boolean(deps.registry),

    async distribute(
      _build: Pick<Build, "app_id" | "service" | "number">,
      hostId: string,
      localTag: string,
      line: (text: string) => void,
    ): Promise<string> {
      const worker = deps.agent(hostId);
      if (!worker) throw new Error("the worker's agent disconnected");
      if (deps.registry) {
        const r = deps.registry;
        line(`Pushing ${localTag} to ${r.url} …`);
        const password = r.passwordFile
          ? (await Deno.readTextFile(r.passwordFile)).trim()
          : undefined;
        const pushed = await pushImage(worker, localTag, {
          url: r.url,
          ...(r.username ? { username: r.username } : {}),
          ...(password ? { password } : {}),
        });
        line(`Pushed ${pushed.ref}${pushed.digest ? ` (${pushed.digest})` : ""}`);
        return pushed.digest ? `${pushed.ref}@${pushed.digest}` : pushed.ref;
      }
      const others = (await deps.nodes()).filter((n) =>
        n.host_id && n.host_id !== hostId && n.state === "ready"
      );
      for (const n of others) {
        const to = deps.agent(n.host_id!);
        if (!to) {
          line(`Node ${n.hostname}: its agent is not connected here; the image was not copied`);
          continue;
        }
        line(`Copying ${localTag} to ${n.hostname} …`);
        await copyImage(worker, to, localTag);
        line(`Copied ${localTag} to ${n.hostname}`);
      }
      return localTag;
    },
  };
}
