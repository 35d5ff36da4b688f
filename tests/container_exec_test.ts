/**
 * A `docker exec` into a running container must not remove it from Capstan: the engine's exec
 * events (exec_create, exec_start, exec_die) carry no container state, and only `destroy` removes.
 * Real engine, real container, real exec, through an in-process agent, on both dialects.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, TEST_IMAGE, testName } from "../lib/docker/testing.ts";
import { dockerExec } from "./support/docker_exec.ts";

const SUITE = "container-exec";

dbTest(
  "[docker] docker exec into a running container keeps it listed and running",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const start = async (what: string) => {
        const name = testName(SUITE, what);
        const r = await f.call("member", "POST", `${f.api}/containers`, {
          name,
          image: TEST_IMAGE,
          cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
          labels: f.labels,
          start: true,
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        await f.waitForListed(name, (c) => c?.state === "running", "running");
        return { id: r.body.id as string, name };
      };
      const target = await start("target");
      const sentinel = await start("sentinel");

      assert.equal(await dockerExec(f.agent.docker, target.id, ["sh", "-c", "echo hi"]), 0);
      // Events reach the hub in order: once the sentinel's stop is in the cache, the exec's
      // events before it have been applied too.
      await f.agent.docker.killContainer(sentinel.id, "SIGKILL");
      await f.waitForListed(sentinel.name, (c) => c?.state === "exited", "exited");

      const listed = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?q=${encodeURIComponent(target.name)}`,
      );
      assert.deepEqual(
        listed.body.items.map((c: { name: string; state: string }) => [c.name, c.state]),
        [[target.name, "running"]],
        "the container stays listed and running after an exec",
      );
      // The host's counts are computed from these cache rows.
      const counted = await f.t.services.db.selectFrom("containers").select("id")
        .where("host_id", "=", f.hostId).where("id", "=", target.id).executeTakeFirst();
      assert.ok(counted, "the cache row is still there");
    } finally {
      await f.close();
    }
  },
  { ignore: dockerTestsIgnored(SUITE) },
);
