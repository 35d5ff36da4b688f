import assert from "node:assert/strict";
import { hostOffline } from "./host_offline.ts";
import { harness, HOST, lastInfo, rule, T0 } from "./testing.ts";

const offline = rule({ name: "Offline", kind: "event", event: "host_offline", hold_s: 120 });
const silent = (lastHeard: number, connected = false) => [{ host: HOST, lastHeard, connected }];

Deno.test("hostOffline fires once a host is unheard of for the hold and not connected", async () => {
  const h = harness([offline]);
  hostOffline.tickHosts!(h.at(T0 + 119_000), [offline], silent(T0));
  hostOffline.tickHosts!(h.at(T0 + 200_000), [offline], silent(T0, true));
  assert.deepEqual(h.take(), [], "within the hold, then connected");
  hostOffline.tickHosts!(h.at(T0 + 120_000), [offline], silent(T0));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "web-1",
    containerName: null,
    title: "Offline on web-1",
    detail: "No report and no connection from the host for 2m",
  });
  assert.deepEqual(h.take(), ["fire h1 firing 120"]);
  hostOffline.tickHosts!(h.at(T0 + 150_000), [offline], silent(T0));
  assert.deepEqual(h.take(), [], "already firing");
  hostOffline.tickHosts!(h.at(T0 + 160_000), [offline], silent(T0 + 155_000));
  assert.deepEqual(h.take(), ["resolve h1 ok 120"], "heard of again");
});

Deno.test("hostOffline resolves when the host comes back or is removed; scopes pick hosts", () => {
  const h = harness([offline]);
  hostOffline.tickHosts!(h.at(T0 + 120_000), [offline], silent(T0));
  hostOffline.hostBack!(h.at(T0 + 121_000), offline, "other-host");
  assert.deepEqual(h.take(), ["fire h1 firing 120"]);
  hostOffline.hostBack!(h.at(T0 + 121_000), offline, HOST.id);
  assert.deepEqual(h.take(), ["resolve h1 ok 120"]);

  hostOffline.tickHosts!(h.at(T0 + 130_000), [offline], silent(T0));
  hostOffline.tickHosts!(h.at(T0 + 140_000), [offline], []);
  assert.deepEqual(h.take(), ["fire h1 firing 130", "resolve h1 ok 130"], "removed");

  const elsewhere = rule({
    name: "Offline",
    kind: "event",
    event: "host_offline",
    hold_s: 120,
    scope: "label",
    scope_value: "env=prod",
  }, "r2");
  const h2 = harness([elsewhere]);
  hostOffline.tickHosts!(h2.at(T0 + 600_000), [elsewhere], silent(T0));
  assert.deepEqual(h2.take(), [], "the host has no env=prod label");
});
