/**
 * Migration policies on the real engine adopted as a single-node cluster, through the API and the
 * pages: manual pins each service to its node (the `node.id==…` constraint in the Swarm service's
 * spec, the pins on the deployment); switching to automatic deploys again without the pin; none
 * pins and refuses moves; "Move to" refuses an unknown node or service (400 naming the field) and
 * the node the service is already on (409 naming it); the edit page explains the policies, the app
 * page shows the pins and the move form, the confirmation page the move.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { apiApps } from "./support/apps_api.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";

const SUITE = "apps-placement";
const ignored = dockerTestsIgnored(SUITE);

const sleeper = {
  name: "web",
  image: TEST_IMAGE,
  command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
  replicas: 1,
  stop_grace_s: 1,
};

dbTest(
  "[docker] apps: migration policy manual pins to the node, automatic unpins, none refuses moves; Move to refusals; pages",
  async (h) => {
    if (ignored) return;
    const env = await apiApps(h, SUITE);
    const { f, docker, api } = env;
    const name = `pin-${crypto.randomUUID().slice(0, 6)}`;
    const app = `${api}/${name}`;
    const member = (m: string, p: string, j?: unknown) => f.call("member", m, p, j);
    /** The Swarm service's placement constraints, as the engine has them. */
    const constraints = async () => {
      const [s] = (await docker.listServices()).filter((x) =>
        x.Spec.Labels?.[LABELS.service] === "web" && x.Spec.Name.includes(name)
      );
      const spec = await docker.inspectService(s.ID);
      return spec.Spec.TaskTemplate.Placement?.Constraints ?? [];
    };
    try {
      const nodeId = (await docker.info()).Swarm!.NodeID!;
      const hostname = (await docker.inspectNode(nodeId)).Description.Hostname;

      // Bad values are 400 naming the field.
      const bad = await member("POST", api, {
        name,
        spec: { services: [sleeper] },
        migration_policy: "sometimes",
      });
      assert.equal(bad.status, 400);
      assert.ok(bad.body.error.fields.migration_policy, JSON.stringify(bad.body));

      // Manual: deployment #1 pins web to this node, in Swarm and on the deployment.
      const created = await member("POST", api, {
        name,
        spec: { services: [sleeper] },
        migration_policy: "manual",
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(created.body.app.migration_policy, "manual");
      const d1 = await env.settled(name, 1);
      assert.equal(d1.status, "running", d1.reason);
      assert.deepEqual(d1.pins, { web: nodeId });
      assert.deepEqual(await constraints(), [`node.id==${nodeId}`]);
      assert.equal((await member("GET", app)).body.migration_policy, "manual");

      // Move to: an unknown node or service is 400 naming it; where it already is, 409 naming node.
      const nowhere = await member("POST", `${app}/move`, { service: "web", node: "nowhere" });
      assert.equal(nowhere.status, 400, JSON.stringify(nowhere.body));
      assert.match(nowhere.body.error.fields.node, /no node "nowhere"/);
      const noService = await member("POST", `${app}/move`, { service: "db", node: nodeId });
      assert.equal(noService.status, 400);
      assert.ok(noService.body.error.fields.service);
      const same = await member("POST", `${app}/move`, { service: "web", node: hostname });
      assert.equal(same.status, 409, JSON.stringify(same.body));
      assert.match(same.body.error.fields.node, /already pinned/);
      const empty = await member("POST", `${app}/move`, { service: "web" });
      assert.equal(empty.status, 400);
      assert.ok(empty.body.error.fields.node);
      assert.equal(
        (await f.call("viewer", "POST", `${app}/move`, { service: "web", node: nodeId })).status,
        403,
      );

      // The pages: the pin and the move form on the app page, the policies explained on edit,
      // the move's confirmation, and a refusal shown on it.
      let page = await env.page("member", `/o/acme/apps/${name}`);
      assert.equal(page.status, 200);
      assert.match(page.html, /<h2 id="placement-title">Placement<\/h2>/);
      assert.match(page.html, new RegExp(`data-pin="web">${hostname}<`));
      assert.match(page.html, /<form method="get" action="\/o\/acme\/apps\/[^"]+\/move"/);
      assert.match(page.html, new RegExp(`<option value="${nodeId}">${hostname}</option>`));
      page = await env.page("viewer", `/o/acme/apps/${name}`);
      assert.doesNotMatch(page.html, /\/move"/, "viewers are not offered a move");
      page = await env.page("member", `/o/acme/apps/${name}/edit`);
      assert.match(page.html, /name="migration_policy" value="manual" checked/);
      assert.match(page.html, /when the node fails the service is down until the node returns/);
      page = await env.page("member", `/o/acme/apps/${name}/move?service=web&node=${nodeId}`);
      assert.equal(page.status, 200);
      assert.match(page.html, new RegExp(`Move web to ${hostname}\\?`));
      const refused = await env.post("member", `/o/acme/apps/${name}/move`, {
        service: "web",
        node: nodeId,
      });
      assert.equal(refused.status, 409);
      assert.match(refused.html, /web already runs on/);

      // Automatic: saving it deploys again (#2, trigger policy) without the pin.
      const auto = await env.post("member", `/o/acme/apps/${name}/edit/policy`, {
        migration_policy: "automatic",
      });
      assert.equal(auto.status, 303, auto.html.slice(0, 500));
      assert.match(auto.location!, /\?done=policy_deployed$/);
      const d2 = await env.settled(name, 2);
      assert.equal(d2.status, "running", d2.reason);
      assert.equal(d2.trigger.kind, "policy");
      assert.deepEqual(d2.pins, {});
      assert.deepEqual(await constraints(), []);
      const moveAuto = await member("POST", `${app}/move`, { service: "web", node: nodeId });
      assert.equal(moveAuto.status, 409);
      assert.ok(moveAuto.body.error.fields.migration_policy);

      // None: pinned again (#3, where its task runs), and moves are refused.
      const none = await member("PATCH", app, { migration_policy: "none" });
      assert.equal(none.status, 200, JSON.stringify(none.body));
      assert.equal(none.body.latest_deployment.number, 3);
      const d3 = await env.settled(name, 3);
      assert.equal(d3.status, "running", d3.reason);
      assert.deepEqual(d3.pins, { web: nodeId });
      assert.deepEqual(await constraints(), [`node.id==${nodeId}`]);
      const moveNone = await member("POST", `${app}/move`, { service: "web", node: nodeId });
      assert.equal(moveNone.status, 409);
      assert.match(moveNone.body.error.fields.migration_policy, /must be manual/);
      page = await env.page("member", `/o/acme/apps/${name}`);
      assert.doesNotMatch(page.html, /\/move"/, "none offers no move");
      assert.match(page.html, /never moved/);

      // None → manual keeps the pin: saved, no deployment.
      const manual = await member("PATCH", app, { migration_policy: "manual" });
      assert.equal(manual.status, 200);
      assert.equal(manual.body.latest_deployment.number, 3);
      // A later deployment keeps the current pin.
      assert.equal((await member("POST", `${app}/restart`)).status, 202);
      const d4 = await env.settled(name, 4);
      assert.deepEqual(d4.pins, { web: nodeId });

      const audit = await f.auditRows("app.updated");
      assert.ok(
        audit.some((r) => r.metadata?.migration_policy === "automatic" && r.metadata?.redeployed),
        "the policy change is audited with its deployment",
      );
    } finally {
      await env.close();
    }
  },
);
