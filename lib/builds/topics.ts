/**
 * A build's realtime topic: `org:<orgId>:build.<buildId>` carries its log lines as the worker
 * sends them, the commit once cloned, its state changes and the deployment it made, for the
 * build page. Members of its organization may read it (viewers too: they may read the log).
 */
import { orgItemTopic } from "../realtime/topics.ts";

export type BuildTopicEvent =
  | { kind: "log"; build_id: string; lines: string[] }
  | { kind: "source"; build_id: string; commit: string; author: string; message: string }
  | {
    kind: "state";
    build_id: string;
    state: string;
    failure?: string | null;
    error?: string | null;
  }
  | { kind: "deployment"; build_id: string; deployment_id: string; number: number };

export const buildTopic = orgItemTopic<BuildTopicEvent>("build", "viewer");
