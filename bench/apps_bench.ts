/**
 * Apps on the Swarm (issue 14), on the real engine adopted as a single-node cluster, through the
 * same in-process wiring as tests/apps_swarm_test.ts:
 * - `app_deploy_ready_s`: create call → every replica of a 2-replica httpd service running and
 *   healthy (the image is present; nothing is pulled);
 * - `app_deploy_docker_cli_s`: `docker service create` of the same service, which waits until it
 *   converged, in the same run; `app_deploy_vs_docker_cli` their ratio (target ≤ 1.5);
 * - `app_update_failed_requests`: requests that failed while the app rolled to a changed version
 *   (start-first), counted by a client on the app's network asking it without pause (target 0).
 */
import { TEST_IMAGE, testLabels, testName } from "../lib/docker/testing.ts";
import { networkNames } from "../lib/apps/swarm_spec.ts";
import { OWNER, withSingleNodeApps } from "../tests/support/apps.ts";
import { startCountingClient } from "../tests/support/counting_client.ts";

const SUITE = "apps-bench";

/** A busybox httpd answering `text`, healthy once its page exists; 2 replicas, start-first. */
function httpd(text: string) {
  return {
    name: "web",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: [`mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`],
    replicas: 2,
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    update: { parallelism: 1, delay_s: 1, order: "start-first" as const, monitor_s: 3 },
    restart: { condition: "any" as const, delay_s: 1 },
    stop_grace_s: 1,
  };
}

/** Runs `docker` with fixed arguments; fails with its stderr. */
async function docker(args: string[]): Promise<string> {
  const out = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`docker ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Measures the three figures and hands them to `record`. */
export async function appsBench(record: (name: string, value: number) => void): Promise<void> {
  const cliName = testName(SUITE, "cli");
  try {
    await withSingleNodeApps(SUITE, async (env, engine) => {
      const t0 = performance.now();
      const { app } = await env.apps.create(OWNER, env.orgA.id, {
        name: `bench-${env.run}`,
        spec: { services: [httpd("v1")] },
      });
      const d1 = await env.deployed(env.orgA.id, app.id, 1);
      if (d1.status !== "running") {
        throw new Error(`deployment #1 ended ${d1.status}: ${d1.reason}`);
      }
      const ours = (performance.now() - t0) / 1000;

      // The same service by hand: the CLI waits until the service converged (not detached).
      const t1 = performance.now();
      await docker([
        "service",
        "create",
        "--quiet",
        "--detach=false",
        "--name",
        cliName,
        "--replicas",
        "2",
        "--endpoint-mode",
        "dnsrr",
        "--label",
        `capstan.test.suite=${SUITE}`,
        "--health-cmd",
        "test -f /www/index.html",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "--stop-grace-period",
        "1s",
        TEST_IMAGE,
        "sh",
        "-c",
        "mkdir -p /www && echo cli > /www/index.html && exec httpd -f -p 80 -h /www",
      ]);
      const cli = (performance.now() - t1) / 1000;
      record("app_deploy_ready_s", ours);
      record("app_deploy_docker_cli_s", cli);
      record("app_deploy_vs_docker_cli", ours / cli);

      // A rolling update under steady requests from a client on the app's network.
      const client = await startCountingClient(engine, {
        name: testName(SUITE, "client"),
        network: networkNames(env.orgA, app).org,
        host: `web.${app.name}`,
        port: 80,
        labels: testLabels(SUITE),
      });
      try {
        const deadline = Date.now() + 60_000;
        while ((await client.counts()).ok < 5) {
          if (Date.now() > deadline) throw new Error("the app never answered the client");
          await new Promise((r) => setTimeout(r, 200));
        }
        const reload = () => env.store.get(env.orgA.id, app.id);
        await env.apps.update(OWNER, await reload(), { spec: { services: [httpd("v2")] } });
        await env.apps.deploy(OWNER, await reload());
        const d2 = await env.deployed(env.orgA.id, app.id, 2);
        if (d2.status !== "running") {
          throw new Error(`deployment #2 ended ${d2.status}: ${d2.reason}`);
        }
      } finally {
        const counts = await client.stop();
        console.log(`  (update: ${counts.ok} answered, ${counts.bad} failed)`);
        record("app_update_failed_requests", counts.bad);
      }
    });
  } finally {
    await docker(["service", "rm", cliName]).catch(() => {});
  }
}

if (import.meta.main) await appsBench((n, v) => console.log(`${n.padEnd(40)} ${v}`));
