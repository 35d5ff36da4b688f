/**
 * Following a service's logs: every task's lines as the engine sends them, each labelled with
 * the task (`web.2`, its slot) and the node it runs on (the node's hostname), so lines of several
 * replicas read apart. Tasks started after the stream opened (a restart, a deploy, a reschedule)
 * are looked up when their first line arrives, at most once a second.
 */
import type { ServiceLogLine, SwarmGateway } from "./gateway.ts";

/** A followed log line with where it came from. */
export interface AppLogLine {
  stream: "stdout" | "stderr";
  line: string;
  ts?: string;
  /** `<service>.<slot>` (or the task id's start for a global service's task). */
  task: string;
  task_id: string;
  /** The node's hostname (its id's start when the node is not known). */
  node: string;
}

/** Batches a slow viewer may leave unread before its stream fails (it fell behind). */
export const FOLLOW_MAX_BUFFERED = 256;
const REFRESH_MS = 1000;

/** A following stream of one service's logs, labelled; `cancel` ends it and its agent stream. */
export interface LiveServiceLogs {
  lines: AsyncIterable<AppLogLine[]>;
  cancel(): void;
}

/** Follows `serviceId`'s logs from the last `tail` lines of each task on. */
export function followServiceLogs(
  gw: SwarmGateway,
  serviceId: string,
  service: string,
  tail: number,
): LiveServiceLogs {
  const tasks = new Map<string, { slot?: number; node?: string }>();
  let nodes = new Map<string, string>();
  let refreshedAt = 0;
  const refresh = async () => {
    refreshedAt = Date.now();
    const [ts, ns] = await Promise.all([gw.tasks({ service: [serviceId] }), gw.nodes()]);
    for (const t of ts) tasks.set(t.ID, { slot: t.Slot, node: t.NodeID });
    nodes = new Map(ns.map((n) => [n.ID, n.Description.Hostname]));
  };
  const label = (l: ServiceLogLine): AppLogLine => {
    const id = l.taskId ?? "";
    const t = tasks.get(id);
    const nodeId = l.nodeId ?? t?.node ?? "";
    return {
      stream: l.stream,
      line: l.line,
      ...(l.ts ? { ts: l.ts } : {}),
      task: t?.slot !== undefined ? `${service}.${t.slot}` : `${service}.${id.slice(0, 6)}`,
      task_id: id,
      node: nodes.get(nodeId) ?? nodeId.slice(0, 12),
    };
  };
  const source = gw.logs(serviceId, { tail, follow: true, maxBuffered: FOLLOW_MAX_BUFFERED });
  async function* lines(): AsyncGenerator<AppLogLine[]> {
    await refresh();
    for await (const batch of source) {
      const unknown = batch.some((l) => l.taskId && !tasks.has(l.taskId));
      if (unknown && Date.now() - refreshedAt >= REFRESH_MS) await refresh().catch(() => {});
      yield batch.map(label);
    }
  }
  return { lines: lines(), cancel: () => source.cancel() };
}
