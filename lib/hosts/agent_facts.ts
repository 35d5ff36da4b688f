/**
 * What agents tell the hub about their hosts, stored: the hello (agent version, engine facts),
 * liveness, and the container cache — a full snapshot replaces a host's containers, an event
 * changes one — with the host's container counts kept in step.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { ContainerState, Hello } from "../protocol/messages.ts";

/** Writes of agent facts; see the module comment. */
export function createAgentFacts(db: Db, clock: Clock) {
  return {
    /** Stores what the agent said about itself on connecting. */
    async recordHello(hostId: string, hello: Hello): Promise<void> {
      const e = hello.engine;
      await db.updateTable("hosts").set({
        last_seen_at: clock.now(),
        agent_version: hello.agent_version,
        hostname: hello.hostname,
        // An agent older than snapshots does not say: keep what is known.
        ...(hello.restic_version === undefined ? {} : { restic_version: hello.restic_version }),
        ...(e
          ? {
            docker_version: e.docker_version,
            os: e.os,
            kernel: e.kernel,
            arch: e.arch,
            cpus: e.cpus,
            memory_bytes: e.memory_bytes,
            containers_running: e.containers_running,
            containers_total: e.containers_total,
            engine: JSON.stringify(e),
          }
          : {}),
      }).where("id", "=", hostId).execute();
    },

    /** Marks the host seen now. */
    async touch(hostId: string): Promise<void> {
      await db.updateTable("hosts").set({ last_seen_at: clock.now() }).where("id", "=", hostId)
        .execute();
    },

    /** Replaces the cached container list of a host with a full snapshot (reconcile). */
    async applySnapshot(
      host: { id: string; org_id: string },
      containers: ContainerState[],
    ): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("containers").where("host_id", "=", host.id).execute();
        for (let i = 0; i < containers.length; i += 200) {
          await tx.insertInto("containers").values(
            containers.slice(i, i + 200).map((c) => containerRow(host, c, now)),
          ).execute();
        }
        await tx.updateTable("hosts").set({
          containers_total: containers.length,
          containers_running: containers.filter((c) => c.state === "running").length,
          last_seen_at: now,
        }).where("id", "=", host.id).execute();
      });
    },

    /** Applies one container event: upsert the container's new state, or drop it when destroyed. */
    async applyContainer(
      host: { id: string; org_id: string },
      id: string,
      c: ContainerState | undefined,
    ): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("containers").where("host_id", "=", host.id).where("id", "=", id)
          .execute();
        if (c) await tx.insertInto("containers").values(containerRow(host, c, now)).execute();
        const counts = await tx.selectFrom("containers").select((eb) => [
          eb.fn.countAll<number>().as("total"),
          eb.fn.sum<number>(eb.case().when("state", "=", "running").then(1).else(0).end()).as(
            "running",
          ),
        ]).where("host_id", "=", host.id).executeTakeFirstOrThrow();
        await tx.updateTable("hosts").set({
          containers_total: Number(counts.total),
          containers_running: Number(counts.running ?? 0),
          last_seen_at: now,
        }).where("id", "=", host.id).execute();
      });
    },
  };
}

function containerRow(host: { id: string; org_id: string }, c: ContainerState, now: number) {
  return {
    host_id: host.id,
    id: c.id,
    org_id: host.org_id,
    name: c.name,
    image: c.image,
    image_id: c.image_id,
    command: c.command,
    state: c.state,
    status: c.status,
    created: c.created,
    labels: JSON.stringify(c.labels),
    ports: JSON.stringify(c.ports),
    updated_at: now,
  };
}
