/**
 * The apps' realtime topic: `org:<orgId>:app.<appId>` carries a deployment's progress (task states
 * as Swarm reports them) and the app's timeline news, for the app page.
 */
import { orgItemTopic } from "../realtime/topics.ts";
import type { DeployProgress } from "./deployer.ts";

/** A line added to an app's timeline (a deployment started, tasks moved off a down node). */
export interface AppNews {
  kind: "event";
  app_id: string;
  message: string;
}

/** What the app topic carries. */
export type AppTopicEvent = (DeployProgress & { kind?: "progress" }) | AppNews;

/** One app's live topic; members of its organization may read it. */
export const appTopic = orgItemTopic<AppTopicEvent>("app", "viewer");
