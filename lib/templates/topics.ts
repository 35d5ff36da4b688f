/**
 * A provisioning's realtime topic: `org:<orgId>:provision.<id>` carries the provisioning as it
 * moves through its steps (the progress page); the app's own topic carries its deployment.
 */
import { orgItemTopic } from "../realtime/topics.ts";
import type { Provision } from "./store.ts";

export const provisionTopic = orgItemTopic<Provision>("provision", "viewer");
