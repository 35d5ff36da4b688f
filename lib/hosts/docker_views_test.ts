import assert from "node:assert/strict";
import {
  findImage,
  findNetwork,
  imageViews,
  isSystemNetwork,
  networkViews,
  pullEvent,
  volumeViews,
} from "./docker_views.ts";
import type { ImageSummary, NetworkInspect, Volume } from "../docker/types.ts";

const image = (id: string, tags: string[] | null, created = 1): ImageSummary => ({
  Id: `sha256:${id.padEnd(64, "0")}`,
  ParentId: "",
  RepoTags: tags,
  RepoDigests: null,
  Created: created,
  Size: 100,
  SharedSize: 0,
  Labels: null,
  Containers: -1,
});

Deno.test("imageViews() behaviour: newest first, in-use counts, <none> tags mean dangling", () => {
  const a = image("aa", ["web:1", "web:latest"], 10);
  const b = image("bb", ["<none>:<none>"], 20);
  const v = imageViews([a, b], new Map([[a.Id, 2]]));
  assert.deepEqual(v.map((i) => i.id), [b.Id, a.Id]);
  assert.equal(v[0].dangling, true);
  assert.deepEqual(v[0].tags, []);
  assert.equal(v[1].containers, 2);
  assert.equal(v[1].created, 10_000);
});

Deno.test("findImage() behaviour: by tag (latest implied), by id, by short id", () => {
  const a = image("abcdef123456", ["registry:5000/team/web:latest"]);
  const b = image("bbbbbb", ["busybox:1.36"]);
  assert.equal(findImage([a, b], "registry:5000/team/web"), a);
  assert.equal(findImage([a, b], "busybox:1.36"), b);
  assert.equal(findImage([a, b], "busybox"), undefined);
  assert.equal(findImage([a, b], "abcdef123456"), a);
  assert.equal(findImage([a, b], a.Id), a);
});

const net = (name: string, extra: Partial<NetworkInspect> = {}) =>
  ({
    Name: name,
    Id: `${name.length.toString(16).padStart(2, "0")}${"f".repeat(62)}`,
    Created: "2026-01-01T00:00:00Z",
    Scope: "local",
    Driver: "bridge",
    EnableIPv6: false,
    Internal: false,
    Attachable: false,
    Ingress: false,
    IPAM: { Driver: "default", Config: [{ Subnet: "10.1.0.0/24", Gateway: "10.1.0.1" }] },
    Options: {},
    Labels: {},
    ...extra,
  }) as NetworkInspect;

Deno.test("isSystemNetwork() behaviour: the engine's networks by name and by what they are", () => {
  for (const n of ["bridge", "host", "none", "docker_gwbridge", "ingress"]) {
    assert.equal(isSystemNetwork(net(n)), true, n);
  }
  assert.equal(isSystemNetwork(net("renamed", { Ingress: true })), true);
  assert.equal(
    isSystemNetwork(net("docker0-renamed", {
      Options: { "com.docker.network.bridge.default_bridge": "true" },
    })),
    true,
  );
  assert.equal(isSystemNetwork(net("backend")), false);
});

Deno.test("networkViews() behaviour: system networks first, subnet and users; findNetwork by name or id", () => {
  const v = networkViews([
    { ...net("zeta"), UsedBy: [{ id: "c1", name: "web", state: "running" }] },
    net("bridge"),
    net("alpha", { IPAM: { Driver: "default", Config: null } }),
  ]);
  assert.deepEqual(v.map((n) => n.name), ["bridge", "alpha", "zeta"]);
  assert.equal(v[0].protected, true);
  assert.equal(v[1].subnet, null);
  assert.equal(v[2].subnet, "10.1.0.0/24");
  assert.deepEqual(v[2].containers.map((c) => c.name), ["web"]);
  assert.equal(findNetwork(v, "zeta")?.name, "zeta");
  assert.equal(findNetwork(v, v[2].id.slice(0, 12))?.name, "zeta");
  assert.equal(findNetwork(v, "nope"), undefined);
});

Deno.test("volumeViews() behaviour: size only when computed (-1 means unknown)", () => {
  const vol = (name: string, usage?: Volume["UsageData"]): Volume => ({
    Name: name,
    Driver: "local",
    Mountpoint: `/var/lib/docker/volumes/${name}/_data`,
    Labels: null,
    Scope: "local",
    Options: null,
    UsageData: usage,
  });
  const v = volumeViews([
    vol("b", { Size: 2048, RefCount: 1 }),
    vol("a", { Size: -1, RefCount: 0 }),
  ]);
  assert.deepEqual(v.map((x) => [x.name, x.size]), [["a", null], ["b", 2048]]);
});

Deno.test("pullEvent() behaviour: engine progress lines become small events", () => {
  assert.deepEqual(
    pullEvent({
      status: "Downloading",
      id: "a1b2",
      progress: "[==>  ] 1MB/2MB",
      progressDetail: { current: 1, total: 2 },
    }),
    { type: "progress", status: "Downloading", id: "a1b2", current: 1, total: 2 },
  );
  assert.deepEqual(pullEvent({ status: "Pulling from library/x", id: "latest" }), {
    type: "progress",
    status: "Pulling from library/x",
  });
  assert.deepEqual(pullEvent({ dropped: 3 }), { type: "dropped", count: 3 });
  assert.equal(pullEvent("junk"), undefined);
  assert.equal(pullEvent({ nothing: 1 }), undefined);
});
