/**
 * The Docker resource pages through `app.request()` as a browser without JS uses them: the
 * containers list (filters, pagination, live island marker, role-dependent actions), the create
 * form (kept input, per-field errors, the admin-only fieldset), confirmation pages, the images,
 * networks and volumes pages with their forms, and the empty and offline states.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { builtIslands } from "./support/islands.ts";
import { testApp } from "./support/app.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, TEST_IMAGE, testName } from "../lib/docker/testing.ts";
import type { ContainerState } from "../lib/protocol/messages.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const SUITE = "docker-pages";
const ignored = dockerTestsIgnored(SUITE);

const islands = builtIslands;

async function fixture(h: Parameters<Parameters<typeof dbTest>[1]>[0]) {
  const { manifest, dir } = await islands();
  return await dockerFixture(h, SUITE, { islands: manifest, islandsDir: dir });
}

/** A form POST as a browser sends it. */
function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

/** A fake cached container (the cache is what the list reads). */
function cached(i: number, extra: Partial<ContainerState> = {}): ContainerState {
  const hex = i.toString(16).padStart(4, "0");
  return {
    id: hex.repeat(16),
    name: `app-${String(i).padStart(3, "0")}`,
    image: i % 2 ? "nginx:1.27" : "redis:7",
    image_id: `sha256:${"ab".repeat(32)}`,
    command: "run",
    state: i % 3 === 0 ? "exited" : "running",
    status: "Up 1 hour",
    created: 1_700_000_000 + i,
    labels: { tier: i % 2 ? "web" : "db" },
    ports: i === 1 ? [{ private_port: 80, public_port: 8080, type: "tcp", ip: "0.0.0.0" }] : [],
    ...extra,
  };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

dbTest("[e2e] docker pages: with no hosts every page says where to add one", async (h) => {
  const t = testApp(h);
  const u = await t.user("ann@acme.io", { org: "acme", role: "owner" });
  for (const p of ["containers", "images", "networks", "volumes", "containers/new"]) {
    const res = await t.request(`/o/acme/${p}`, { cookie: u.cookie });
    assert.equal(res.status, 200, p);
    const html = await res.text();
    assert.match(html, /No hosts yet/, p);
    assert.match(html, /href="\/o\/acme\/hosts"/, p);
  }
});

dbTest(
  "[e2e] docker pages: the list filters and pages the cache; actions follow the role",
  async (h) => {
    const t = testApp(h);
    const viewer = await t.user("vera@acme.io", { org: "acme", role: "viewer" });
    const member = await t.user("max@acme.io", { org: "acme", role: "member" });
    const org = (await t.services.orgs.bySlug("acme"))!;
    const { host } = await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "edge-1" });
    await t.services.hosts.applySnapshot(host, Array.from({ length: 60 }, (_, i) => cached(i + 1)));

    const first = await t.request("/o/acme/containers", { cookie: member.cookie });
    assert.equal(first.status, 200);
    const html = await first.text();
    assert.equal((html.match(/data-container-row=/g) ?? []).length, 50);
    assert.match(html, /1–50 of 60/);
    assert.match(html, /href="\/o\/acme\/containers\?offset=50"/);
    assert.match(html, /app-001/);
    assert.match(html, /0\.0\.0\.0:8080→80\/tcp/);
    assert.match(html, new RegExp(`href="/o/acme/containers/${host.id}/${"0001".repeat(16)}"`));
    // The host is offline: its containers are listed from the cache, without action buttons.
    assert.match(html, /edge-1<span class="muted small">\(offline\)/);
    assert.doesNotMatch(html, /action="[^"]*\/stop"/);
    assert.match(html, /New container/);

    const second =
      await (await t.request("/o/acme/containers?offset=50", { cookie: member.cookie }))
        .text();
    assert.match(second, /51–60 of 60/);
    assert.match(second, /rel="prev"/);

    const filtered = await (await t.request(
      `/o/acme/containers?state=exited&label=tier%3Dweb&q=APP-0&host=${host.id}`,
      { cookie: viewer.cookie },
    )).text();
    const names = [...filtered.matchAll(/>(app-\d{3})</g)].map((m) => m[1]);
    assert.ok(names.length > 0);
    for (const n of names) {
      const i = Number(n.slice(4));
      assert.ok(i % 3 === 0 && i % 2 === 1, `${n} matches state=exited and tier=web`);
    }
    assert.doesNotMatch(filtered, /New container/, "viewers cannot create");
    // Filters stay in the form; a bad one is a 400 with its message.
    assert.match(filtered, /<option value="exited" selected/);
    const bad = await t.request("/o/acme/containers?state=sleeping&label=%22x", {
      cookie: viewer.cookie,
    });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /Fix the filters marked above/);
    assert.match(badHtml, /Must be key or key=value/);
    const none = await (await t.request("/o/acme/containers?q=nothing-like-this", {
      cookie: viewer.cookie,
    })).text();
    assert.match(none, /No containers match these filters/);
    // Viewers cannot reach the create form.
    assert.equal(
      (await t.request("/o/acme/containers/new", { cookie: viewer.cookie })).status,
      403,
    );
  },
);

dbTest("[e2e] docker pages: an offline host is explained, with status 503", async (h) => {
  const t = testApp(h);
  const u = await t.user("ann@acme.io", { org: "acme", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  await t.services.hosts.create(SYSTEM_CTX, org.id, { name: "far-away" });
  for (const p of ["images", "networks", "volumes"]) {
    const res = await t.request(`/o/acme/${p}`, { cookie: u.cookie });
    assert.equal(res.status, 503, p);
    assert.match(await res.text(), /far-away is offline/);
  }
  const form = await (await t.request("/o/acme/containers/new", { cookie: u.cookie })).text();
  assert.match(form, /No host is online/);
});

if (!ignored) {
  dbTest(
    "[docker] [e2e] docker pages: create form, actions, confirmations, live island",
    async (h) => {
      const f = await fixture(h);
      try {
        const { t, users } = f;
        const asMember = (path: string, init: RequestInit = {}) =>
          t.request(path, { ...init, cookie: users.member.cookie });

        // The form: defaults, no advanced fieldset for members, one for admins.
        const blank = await (await asMember("/o/acme/containers/new")).text();
        assert.match(blank, new RegExp(`<option value="${f.hostId}" selected`));
        assert.match(blank, /<input id="c-start" name="start" type="checkbox" value="on" checked/);
        assert.doesNotMatch(blank, /Advanced \(admins only\)/);
        const adminForm = await (await t.request("/o/acme/containers/new", {
          cookie: users.admin.cookie,
        })).text();
        assert.match(adminForm, /Advanced \(admins only\)/);
        assert.match(adminForm, /name="privileged"/);

        // Errors: 400, input kept, one message per field.
        const bad = await asMember(
          "/o/acme/containers/new",
          form({
            host: f.hostId,
            image: TEST_IMAGE,
            name: "bad name; rm",
            ports: "80\nnot-a-port",
            env: "GOOD=1",
          }),
        );
        assert.equal(bad.status, 400);
        const badHtml = await bad.text();
        assert.match(badHtml, /value="bad name; rm"/);
        assert.match(badHtml, />GOOD=1<\/textarea>/);
        assert.match(badHtml, /Line 2: must look like 8080:80\/tcp/);
        assert.match(badHtml, /id="c-name-error"/);

        // A member posting an admin-only option gets 403 with the message at the top.
        const priv = await asMember(
          "/o/acme/containers/new",
          form({
            host: f.hostId,
            image: TEST_IMAGE,
            privileged: "on",
          }),
        );
        assert.equal(priv.status, 403);
        assert.match(
          await priv.text(),
          /Only organization admins may create containers with privileged/,
        );

        // Success: 303 to the container's page; the label makes cleanup find it.
        const name = testName(SUITE, "web");
        const ok = await asMember(
          "/o/acme/containers/new",
          form({
            host: f.hostId,
            image: TEST_IMAGE,
            name,
            // A shell that exits on SIGTERM, so stop does not wait out the 10 s grace period.
            cmd: "sh\n-c\ntrap 'exit 0' TERM; sleep 600 & wait",
            // Exposed (a container port, not published on the host).
            ports: "80",
            labels: Object.entries(f.labels).map(([k, v]) => `${k}=${v}`).join("\n"),
            restart_policy: "no",
            start: "on",
          }),
        );
        assert.equal(ok.status, 303, await ok.text());
        const location = ok.headers.get("location")!;
        assert.match(location, new RegExp(`^/o/acme/containers/${f.hostId}/[a-f0-9]{64}$`));
        const id = location.split("/").at(-1)!;
        await f.waitForListed(name, (c) => c?.state === "running", "running");

        // The list: live island marker, the row's actions as POST forms.
        const list = await asMember("/o/acme/containers");
        const html = await list.text();
        assert.match(html, /<capstan-island data-island="ContainersLive"/);
        assert.match(html, new RegExp(`data-container-state="${id}"`));
        const itemPath = `/o/acme/containers/${f.hostId}/${id}`;
        assert.match(html, new RegExp(`<form method="post" action="${esc(itemPath)}/stop">`));
        assert.match(html, new RegExp(`href="${esc(itemPath)}/kill"`));
        const viewerHtml = await (await t.request("/o/acme/containers", {
          cookie: users.viewer.cookie,
        })).text();
        assert.doesNotMatch(viewerHtml, /\/stop"/);

        // Stop posts back to where it came from, after the cache shows the new state.
        const stop = await asMember(`${itemPath}/stop`, form({ next: "/o/acme/containers?q=web" }));
        assert.equal(stop.status, 303);
        assert.equal(stop.headers.get("location"), "/o/acme/containers?q=web&ok=container_stopped");
        const after = await (await asMember(stop.headers.get("location")!)).text();
        assert.match(after, /Container stopped\./);
        assert.match(
          after,
          new RegExp(`data-container-state="${id}"><span class="badge badge-error">exited`),
        );
        // Off-site "next" values are ignored.
        const start = await asMember(`${itemPath}/start`, form({ next: "//evil.example/x" }));
        assert.equal(start.headers.get("location"), "/o/acme/containers?ok=container_started");

        // Kill and remove go through confirmation pages that work without JS.
        const killPage = await (await asMember(`${itemPath}/kill`)).text();
        assert.match(killPage, new RegExp(`<form method="post" action="${esc(itemPath)}/kill"`));
        assert.match(killPage, /name="signal"/);
        const kill = await asMember(`${itemPath}/kill`, form({ signal: "SIGKILL" }));
        assert.equal(kill.status, 303);
        await f.waitForListed(name, (c) => c?.state === "exited", "killed");
        // Stopped, its page shows the port it publishes when running, not "No ports exposed".
        const stoppedPage = await (await asMember(itemPath)).text();
        assert.doesNotMatch(stoppedPage, /No ports exposed/);
        assert.match(stoppedPage, /As configured: published while the container runs/);
        assert.match(
          stoppedPage,
          /<code>not published<\/code> → <code>80\/tcp<\/code>/,
        );
        const removePage = await (await asMember(`${itemPath}/remove`)).text();
        assert.match(removePage, /Also remove its anonymous volumes/);
        const remove = await asMember(`${itemPath}/remove`, form({ volumes: "on" }));
        assert.equal(remove.status, 303);
        assert.equal(remove.headers.get("location"), "/o/acme/containers?ok=container_removed");
        await f.waitForListed(name, (c) => c === undefined, "removed");
        const row = (await f.auditRows("container.removed")).find((r) => r.target_id === id)!;
        assert.equal(row.metadata.volumes, true);

        // A refused action is shown on the list page with its status.
        const again = await asMember(`${itemPath}/start`, form({}));
        assert.equal(again.status, 404);
        assert.match(await again.text(), /class="alert alert-error"/);
      } finally {
        await f.close();
      }
    },
  );

  dbTest(
    "[docker] [e2e] docker pages: images, networks and volumes forms and confirmations",
    async (h) => {
      const f = await fixture(h);
      try {
        const { t, users } = f;
        const as = (who: keyof typeof users) => (path: string, init: RequestInit = {}) =>
          t.request(path, { ...init, cookie: users[who].cookie });
        const admin = as("admin");
        const member = as("member");

        // Images: the pull island wraps a plain form; admins get remove and prune links.
        const images = await (await admin(`/o/acme/images?host=${f.hostId}`)).text();
        assert.match(images, /<capstan-island data-island="PullProgress"/);
        assert.match(images, /<form method="post" action="\/o\/acme\/images\/pull"/);
        assert.match(images, new RegExp(esc(TEST_IMAGE)));
        assert.match(images, /href="\/o\/acme\/images\/prune\?host=/);
        assert.match(images, /href="\/o\/acme\/images\/remove\?host=[^"]+&amp;ref=/);
        const memberImages = await (await member("/o/acme/images")).text();
        assert.doesNotMatch(memberImages, /images\/remove/);
        assert.match(memberImages, /Pull an image/);
        const viewerImages = await (await as("viewer")("/o/acme/images")).text();
        assert.doesNotMatch(viewerImages, /Pull an image/);

        // A pull without JS waits for the result; a failure keeps the input and shows the error.
        // The registry is on loopback: members are refused before the engine is asked, admins
        // get the engine's answer.
        const ref = "127.0.0.1:9/capstan-test/absent:latest";
        const refused = await member("/o/acme/images/pull", form({ host: f.hostId, ref }));
        assert.equal(refused.status, 403);
        const refusedHtml = await refused.text();
        assert.match(refusedHtml, new RegExp(`value="${esc(ref)}"`));
        assert.match(refusedHtml, /id="pull-error"[^>]*>Cannot pull 127\.0\.0\.1:9[^<]*loopback/);
        const pulled = await admin("/o/acme/images/pull", form({ host: f.hostId, ref }));
        assert.equal(pulled.status, 502);
        const pulledHtml = await pulled.text();
        assert.match(pulledHtml, new RegExp(`value="${esc(ref)}"`));
        assert.match(pulledHtml, /id="pull-error"[^>]*>Cannot pull 127\.0\.0\.1:9/);
        const badRef = await member("/o/acme/images/pull", form({ host: f.hostId, ref: "a b" }));
        assert.equal(badRef.status, 400);

        const removeImage = await (await admin(
          `/o/acme/images/remove?host=${f.hostId}&ref=${encodeURIComponent(TEST_IMAGE)}`,
        )).text();
        assert.match(removeImage, /Remove capstan-test\/busybox:latest\?/);
        assert.match(removeImage, /name="force"/);
        assert.equal((await member(`/o/acme/images/remove?host=${f.hostId}&ref=x`)).status, 403);
        const prune = await (await admin(`/o/acme/images/prune?host=${f.hostId}`)).text();
        assert.match(prune, /Prune dangling images on local\?/);
        const badHost = await admin(`/o/acme/images/prune?host=..%2F..`);
        assert.equal(badHost.status, 400);

        // Networks: system ones protected; create keeps input on errors.
        const nets = await (await admin("/o/acme/networks")).text();
        assert.match(nets, /<span class="badge badge-neutral">protected<\/span>/);
        const badNet = await member("/o/acme/networks", form({ host: f.hostId, name: "; $(id)" }));
        assert.equal(badNet.status, 400);
        const badNetHtml = await badNet.text();
        assert.match(badNetHtml, /value="; \$\(id\)"/);
        assert.match(badNetHtml, /id="n-name-error"/);
        const reserved = await member("/o/acme/networks", form({ host: f.hostId, name: "host" }));
        assert.equal(reserved.status, 409);
        assert.match(await reserved.text(), /Is reserved by Docker/);
        const netName = testName(SUITE, "net");
        const made = await member("/o/acme/networks", form({ host: f.hostId, name: netName }));
        assert.equal(made.status, 303);
        assert.match(made.headers.get("location")!, /ok=network_created/);
        // Labels cannot be set from the form, so clean this one up through the page itself.
        const confirmNet =
          await (await admin(`/o/acme/networks/remove?host=${f.hostId}&id=${netName}`))
            .text();
        assert.match(confirmNet, new RegExp(`Remove network ${netName}\\?`));
        const sysNet = await admin(`/o/acme/networks/remove?host=${f.hostId}&id=bridge`);
        assert.equal(sysNet.status, 409);
        const removedNet = await admin(
          "/o/acme/networks/remove",
          form({ host: f.hostId, id: netName }),
        );
        assert.equal(removedNet.status, 303);

        // Volumes: create, in-use refusal on the page, remove.
        const volName = testName(SUITE, "vol");
        const vmade = await member("/o/acme/volumes", form({ host: f.hostId, name: volName }));
        assert.equal(vmade.status, 303);
        const user = await f.agent.docker.createContainer(testName(SUITE, "vuser"), {
          image: TEST_IMAGE,
          cmd: ["true"],
          labels: f.labels,
          volumes: [{ name: volName, target: "/data" }],
        });
        const vols = await (await admin(`/o/acme/volumes?host=${f.hostId}&sizes=1`)).text();
        assert.match(vols, new RegExp(esc(volName)));
        assert.match(vols, /Hide sizes/);
        const confirmVol = await (await admin(
          `/o/acme/volumes/remove?host=${f.hostId}&name=${volName}`,
        )).text();
        assert.match(confirmVol, /Remove volume and its data/);
        const busy = await admin("/o/acme/volumes/remove", form({ host: f.hostId, name: volName }));
        assert.equal(busy.status, 409);
        assert.match(await busy.text(), /it is in use by 1 container\(s\)/);
        await f.agent.docker.removeContainer(user.id, { force: true });
        const vgone = await admin(
          "/o/acme/volumes/remove",
          form({ host: f.hostId, name: volName }),
        );
        assert.equal(vgone.status, 303);
        assert.match(vgone.headers.get("location")!, /ok=volume_removed/);
        assert.equal((await member(`/o/acme/volumes/remove?host=${f.hostId}&name=x1`)).status, 403);
      } finally {
        await f.close();
      }
    },
  );
}
