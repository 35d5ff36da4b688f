/**
 * secret_rotated: a secret an app uses got a new version, and the apps module has done what the
 * rotation asked of each app (a restart started, or not and why). An instant alert per app and
 * rotation, naming who rotated the secret, how, and what became of the app — so the people who
 * answer for the app hear of it through the organization's channels and notification center.
 *
 * One subject per (app, secret), not per version, so subjects do not pile up with rotations; the
 * subject keeps the last version it told of (its value), and the same rotation heard twice is not
 * told twice while every later version is.
 */
import type { EventRuleKind, SecretRestarts } from "./kind.ts";

/** The rotation mode as the secret's trail words it. */
const MODE_WORDS: Record<SecretRestarts["mode"], string> = {
  rolling: "rolling restart",
  restart: "restart now",
  next_deploy: "at next deploy",
};

/** What became of one app, in words. */
function outcome(e: SecretRestarts, app: SecretRestarts["apps"][number]): string {
  if (app.deployment_number !== undefined) {
    const how = e.mode === "restart" ? "restart" : "rolling restart";
    return `${app.name}: ${how} started with deployment #${app.deployment_number}`;
  }
  if (e.mode === "next_deploy") return `${app.name} gets it at its next deployment`;
  return `${app.name} was not restarted (${app.skipped ?? "no reason given"})`;
}

/** The secret_rotated kind. */
export const secretRotated: EventRuleKind = {
  secretRestarts(c, rule, e) {
    for (const app of e.apps) {
      // No host: an app's secret is the organization's, whatever nodes the app runs on.
      const s = c.subject(rule, `app:${app.id}/secret:${e.secret.id}`, "");
      if (s.value !== null && s.value >= e.version) continue;
      s.value = e.version;
      c.instant(s, e.version, {
        hostName: null,
        containerName: null,
        title: `App ${app.name}: secret ${e.secret.name} rotated to version ${e.version}`,
        detail: `${e.actor_name} rotated ${e.secret.name} to version ${e.version} (${
          MODE_WORDS[e.mode]
        }); ${outcome(e, app)}`,
      });
    }
  },
};
