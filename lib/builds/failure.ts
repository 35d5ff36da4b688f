/**
 * Why a build failed, in classes a user can act on, with the hint the build page shows. The agent
 * raises a `BuildFailure` where it knows the class (clone authentication, a checkout too large, a
 * timeout); for a failed `docker build` the class is read from the end of the log, where the
 * builder says what broke.
 */

/** The classes of build failure, each with a hint. */
export const FAILURE_HINTS = {
  clone_auth:
    "The Git host refused the credentials. Check the access token (or that the deploy key is added to the repository with read access), then retry.",
  clone_failed:
    "The repository could not be cloned. Check the URL and the branch name, and that the Git host is reachable from the builder.",
  checkout_too_large:
    "The checkout is larger than the build limit. Remove large files from the repository or raise the limit in Settings.",
  dockerfile_syntax:
    "The Dockerfile does not parse. Fix the line the log names (an unknown instruction or a bad argument).",
  dependency_install:
    "Installing dependencies failed. Check the lock file is committed and every package exists at the named version.",
  missing_start_script:
    'No start command was found. Add a "start" script to package.json (or a Procfile / Dockerfile CMD) and push again.',
  no_build_plan:
    "Capstan found no Dockerfile, no Nix expression and no known project type (package.json, requirements.txt, pyproject.toml, go.mod, index.html). Add a Dockerfile or set the build file path.",
  out_of_memory:
    "The build ran out of memory. Lower the build's memory use, or run builds on a worker with more memory (label it capstan.builder=true).",
  disk_full:
    "The builder's disk is full. Prune old images on the builder (Images → Prune) or give it more space, then retry.",
  timeout: "The build took longer than its time limit. Speed it up or raise the limit in Settings.",
  cancelled: "The build was cancelled.",
  nix_failed: "nix-build failed. The log shows the derivation that failed and its output.",
  build_failed: "The build failed. The end of the log shows the step that failed and why.",
} as const;

export type FailureClass = keyof typeof FAILURE_HINTS;

/** A build failure whose class is known where it happens. */
export class BuildFailure extends Error {
  constructor(readonly failure: FailureClass, message: string) {
    super(message);
    this.name = "BuildFailure";
  }
}

// Checked in order against the last lines of the log: the more specific causes first.
const PATTERNS: [FailureClass, RegExp][] = [
  ["disk_full", /no space left on device|disk quota exceeded/i],
  [
    "out_of_memory",
    /out of memory|ENOMEM|killed.*(?:signal 9|oom)|exit code:? 137|returned a non-zero code: 137/i,
  ],
  ["dockerfile_syntax", /dockerfile parse error|unknown instruction|failed to parse dockerfile/i],
  ["missing_start_script", /missing script:? "?start|no start command/i],
  [
    "dependency_install",
    /(?:npm|yarn|pnpm) (?:ERR!|error)|ERESOLVE|No matching distribution found|Could not find a version that satisfies|pip.*(?:error|ERROR)|go: .*(?:cannot find module|unknown revision|verifying module)|bundle install.*failed/i,
  ],
];

/** The class of a failed build from the last lines of its log (`build_failed` when unknown). */
export function classifyBuildLog(tail: string): FailureClass {
  const end = tail.slice(-16_384);
  for (const [cls, re] of PATTERNS) if (re.test(end)) return cls;
  return "build_failed";
}
