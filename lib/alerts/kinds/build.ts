/**
 * build: a build from Git started, succeeded or failed, or the deployment it made started,
 * succeeded, failed or was rolled back (lib/builds tells each stage on the bus). An instant alert
 * per notice, so the people who answer for the app hear of it through the organization's channels
 * and notification center.
 *
 * One subject per (app, service, stage), not per build, so subjects do not pile up with builds.
 * Each keeps the number of the last build it told of (its value): the same notice heard twice is
 * told once, every later build again, and a build's notices stay apart from the next build's
 * (build #13 starting before #12's deployment ends takes nothing from #12). A subject per stage
 * rather than per service also lets a member silence one stage of one service (the starts, say)
 * and keep hearing of its failures.
 */
import type { BuildNotice, BuildStage } from "../../builds/events.ts";
import type { FailureClass } from "../../builds/failure.ts";
import type { EventRuleKind } from "./kind.ts";

/** What a stage says in a title. */
const STAGE_WORDS: Record<BuildStage, string> = {
  build_started: "started",
  build_succeeded: "succeeded",
  build_failed: "failed",
  deploy_started: "started",
  deploy_succeeded: "succeeded",
  deploy_failed: "failed",
  // The builds module rolls a deployment back when its new version fails its health check.
  deploy_rolled_back: "rolled back (health check failed)",
};

/** A failed build's class as a title names it (none for the class that says nothing more). */
const FAILURE_WORDS: Record<FailureClass, string | null> = {
  clone_auth: "clone refused",
  clone_failed: "clone failed",
  checkout_too_large: "checkout too large",
  dockerfile_syntax: "Dockerfile syntax",
  dependency_install: "dependency install",
  missing_start_script: "no start script",
  no_build_plan: "no build plan",
  out_of_memory: "out of memory",
  disk_full: "builder disk full",
  timeout: "timed out",
  cancelled: "cancelled",
  nix_failed: "nix-build failed",
  build_failed: null,
};

/** A notice's detail kept to this many characters (it is one sentence; a log is never in it). */
const DETAIL_MAX = 500;

/** Why a build failed, as its title says it; an unknown class (a newer builds module) by name. */
function failureWords(n: BuildNotice): string | null {
  if (n.stage !== "build_failed" || n.failure === undefined) return null;
  return Object.hasOwn(FAILURE_WORDS, n.failure)
    ? FAILURE_WORDS[n.failure as FailureClass]
    : n.failure.replaceAll("_", " ");
}

/** "App shop: build #12 of web failed (dependency install)", "…deployment #7 from build #12…". */
function title(n: BuildNotice): string {
  const b = n.build;
  if (n.stage.startsWith("build_")) {
    const why = failureWords(n);
    return `App ${n.app.name}: build #${b.number} of ${b.service} ${STAGE_WORDS[n.stage]}${
      why ? ` (${why})` : ""
    }`;
  }
  const deployment = n.deployment_number === undefined
    ? "deployment"
    : `deployment #${n.deployment_number}`;
  return `App ${n.app.name}: ${deployment} from build #${b.number} ${STAGE_WORDS[n.stage]}`;
}

/** The notice's own sentence, then where the code came from: branch and short commit. */
function detail(n: BuildNotice): string {
  const b = n.build;
  const where = `branch ${b.branch}${b.commit ? `, commit ${b.commit.slice(0, 7)}` : ""}`;
  const said = n.detail.trim().slice(0, DETAIL_MAX).replace(/\.$/, "");
  return said ? `${said} (${where})` : `On ${where}`;
}

/** The build kind. */
export const build: EventRuleKind = {
  buildNotice(c, rule, n) {
    // No host: a build runs on whichever worker took it, and an app's alert is the org's.
    const s = c.subject(rule, `app:${n.app.id}/service:${n.build.service}/${n.stage}`, "");
    if (s.value !== null && s.value >= n.build.number) return;
    s.value = n.build.number;
    c.instant(s, n.build.number, {
      hostName: null,
      containerName: null,
      title: title(n),
      detail: detail(n),
    });
  },
};
