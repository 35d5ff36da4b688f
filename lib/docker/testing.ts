/**
 * Helpers for tests that use the real Docker Engine (`[docker]` tests), shared with the agent's
 * and the hub's tests so every suite labels, skips and cleans up the same way.
 */

import { createDockerClient, DEFAULT_DOCKER_SOCKET, type DockerClient } from "./client.ts";

/** The image scripts/ci/start_docker.sh builds FROM scratch (no registry is reachable). */
export const TEST_IMAGE = "capstan-test/busybox:latest";
/** The label every test resource carries (DESIGN §6), so a rerun can find leftovers. */
export const TEST_LABEL = "capstan.test";

/** Inputs that must never reach an Engine API path. */
export const HOSTILE_NAMES: readonly string[] = [
  "; $() | & \n ../",
  "..",
  ".",
  "",
  "a".repeat(300),
  "../etc/passwd",
  "a/../../b",
  "a b",
  "name\n",
  "-rf",
  "_hidden",
  "$(id)",
  "`id`",
  "x;rm -rf /",
  "a|b",
  "a&b",
  "%2e%2e",
  "caf\u00e9",
  "a\u0000b",
];

const socketPath = Deno.env.get("DOCKER_SOCKET") ?? DEFAULT_DOCKER_SOCKET;

function socketPresent(): boolean {
  try {
    return Deno.statSync(socketPath).isSocket === true;
  } catch {
    return false;
  }
}

const notified = new Set<string>();

/**
 * True when `[docker]` tests should be ignored: no engine socket and not in CI. In CI a missing
 * engine must fail the tests rather than skip them silently. Prints one line per suite.
 */
export function dockerTestsIgnored(suite: string): boolean {
  if (socketPresent() || Deno.env.get("CI") === "true") return false;
  if (!notified.has(suite)) {
    notified.add(suite);
    console.log(
      `[docker] ${suite}: tests ignored, ${socketPath} is absent (run scripts/ci/start_docker.sh)`,
    );
  }
  return true;
}

/**
 * Identifies this test process. Cleanup is scoped to it, because the same suite may be running
 * in another process at the same moment (a developer's run next to `deno task test`).
 */
export const TEST_RUN_ID: string = crypto.randomUUID().slice(0, 12);
const RUN_LABEL = `${TEST_LABEL}.run`;
const SUITE_LABEL = `${TEST_LABEL}.suite`;
/** Resources of a killed run older than this are swept by the next run of the suite. */
const STALE_AFTER_MS = 15 * 60_000;

/** Labels for resources a suite creates: the shared test label, the suite and this run. */
export function testLabels(suite: string): Record<string, string> {
  return { [TEST_LABEL]: "1", [SUITE_LABEL]: suite, [RUN_LABEL]: TEST_RUN_ID };
}

/** Engine filters matching what this run of the suite created. */
export function testRunFilters(suite: string): Record<string, string[]> {
  return { label: [`${SUITE_LABEL}=${suite}`, `${RUN_LABEL}=${TEST_RUN_ID}`] };
}

/** A unique, valid Docker name for a test resource. */
export function testName(suite: string, what: string): string {
  return `capstan-test-${suite}-${what}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Removes the containers, networks, volumes and images this run of the suite labelled, plus the
 * suite's leftovers from runs killed more than 15 minutes ago. Never all of `capstan.test=1`:
 * other suites and other runs may be working at the same time.
 */
export async function cleanupSuite(docker: DockerClient, suite: string): Promise<void> {
  const filters = { label: [`${SUITE_LABEL}=${suite}`] };
  const staleBefore = Date.now() - STALE_AFTER_MS;
  const ours = (labels: Record<string, string> | null | undefined, createdMs: number) =>
    labels?.[RUN_LABEL] === TEST_RUN_ID || createdMs < staleBefore;
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      // Already gone (404) is fine: another cleanup or auto-remove got there first.
      if ((err as { status?: number }).status !== 404) errors.push(err);
    }
  };
  // Services first: removing one removes its tasks' containers. Outside a swarm there are none.
  const info = await docker.info();
  if (info.Swarm?.LocalNodeState === "active" && info.Swarm.ControlAvailable) {
    for (const s of await docker.listServices({ filters })) {
      if (!ours(s.Spec.Labels, Date.parse(s.CreatedAt))) continue;
      await attempt(() => docker.removeService(s.ID));
    }
  }
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (!ours(c.Labels, c.Created * 1000)) continue;
    await attempt(() => docker.removeContainer(c.Id, { force: true, v: true }));
  }
  for (const n of await docker.listNetworks({ filters })) {
    if (!ours(n.Labels, Date.parse(n.Created))) continue;
    await attempt(() => docker.removeNetwork(n.Id));
  }
  for (const v of await docker.listVolumes({ filters })) {
    if (!ours(v.Labels, Date.parse(v.CreatedAt ?? "") || 0)) continue;
    await attempt(() => docker.removeVolume(v.Name, { force: true }));
  }
  for (const i of await docker.listImages({ filters })) {
    if (!ours(i.Labels, i.Created * 1000)) continue;
    await attempt(() => docker.removeImage(i.Id, { force: true }));
  }
  if (errors.length) throw new AggregateError(errors, `cleanup of suite ${suite} failed`);
}

/** Polls an async `check` until it returns a value other than undefined, or fails naming `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
}

/**
 * Runs `fn` with a client for the local engine, then cleans up the suite's resources and closes
 * the client even when `fn` throws, so a failed run leaves nothing behind for the next one.
 */
export async function withDocker(
  suite: string,
  fn: (docker: DockerClient) => Promise<void>,
): Promise<void> {
  const docker = createDockerClient({ socketPath, timeoutMs: 20_000 });
  try {
    await fn(docker);
  } catch (err) {
    // The test's own failure is the one worth reading; a cleanup failure after it is noise.
    await cleanupSuite(docker, suite).catch((e) => console.error(e));
    docker.close();
    throw err;
  }
  try {
    await cleanupSuite(docker, suite);
  } finally {
    docker.close();
  }
}
