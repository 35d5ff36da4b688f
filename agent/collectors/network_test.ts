import assert from "node:assert/strict";
import {
  createNetworkCollector,
  networkCounters,
  networkSeries,
  parseNetDevInterfaces,
} from "./network.ts";

const head = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`;
const dev = (eth0: [number, number], docker0: [number, number]) =>
  head +
  `    lo: 335765183  326409    0    0    0     0          0         0 335765183  326409    0    0    0     0       0          0
  eth0: ${eth0[0]}   10613    0    0    0     0          0         0   ${
    eth0[1]
  }    8175    0    0    0     0       0          0
docker0:    ${docker0[0]}      15    0    0    0     0          0         0    ${
    docker0[1]
  }     439    0   46    0     0       0          0
vethab12cd:    5      15    0    0    0     0          0         0    7     439    0   46    0     0       0          0
`;

Deno.test("parseNetDevInterfaces() reads rx/tx bytes, without lo and container veths", () => {
  const m = parseNetDevInterfaces(dev([1000, 2000], [1115, 47813]));
  assert.deepEqual([...m.keys()], ["eth0", "docker0"]);
  assert.deepEqual(m.get("eth0"), { rx: 1000, tx: 2000 });
  assert.deepEqual(m.get("docker0"), { rx: 1115, tx: 47813 });
  assert.ok(parseNetDevInterfaces(dev([1, 1], [1, 1]), /^lo$/).has("vethab12cd"));
});

Deno.test("networkSeries() gives bytes per second and skips a counter that went back", () => {
  const a = parseNetDevInterfaces(dev([1000, 2000], [5000, 5000]));
  const b = parseNetDevInterfaces(dev([3000, 6000], [100, 5500]));
  assert.deepEqual(networkSeries(a, b, 2), {
    "net.rx_bps{iface=eth0}": 1000,
    "net.tx_bps{iface=eth0}": 2000,
    // docker0 rx went back (interface re-created): no rx value, tx still fine.
    "net.tx_bps{iface=docker0}": 250,
  });
});

Deno.test("createNetworkCollector() measures the time between reads itself", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc/net`, { recursive: true });
    let now = 0;
    const c = createNetworkCollector({ root, monotonic: () => now });
    await Deno.writeTextFile(`${root}/proc/net/dev`, dev([0, 0], [0, 0]));
    assert.equal(await c.collect(0), undefined);
    now = 500;
    await Deno.writeTextFile(`${root}/proc/net/dev`, dev([100, 50], [0, 0]));
    const s = (await c.collect(0))!;
    assert.equal(s["net.rx_bps{iface=eth0}"], 200);
    assert.equal(s["net.tx_bps{iface=eth0}"], 100);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("createNetworkCollector() with countersEveryMs adds the byte counters since boot, at most that often", async () => {
  assert.deepEqual(networkCounters(parseNetDevInterfaces(dev([1000, 2000], [5, 6]))), {
    "net.rx_bytes_total{iface=eth0}": 1000,
    "net.tx_bytes_total{iface=eth0}": 2000,
    "net.rx_bytes_total{iface=docker0}": 5,
    "net.tx_bytes_total{iface=docker0}": 6,
  });
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc/net`, { recursive: true });
    let now = 0;
    const c = createNetworkCollector({ root, monotonic: () => now, countersEveryMs: 10_000 });
    await Deno.writeTextFile(`${root}/proc/net/dev`, dev([10, 20], [0, 0]));
    assert.equal((await c.collect(0))!["net.rx_bytes_total{iface=eth0}"], 10);
    now = 1000;
    assert.equal((await c.collect(0))!["net.rx_bytes_total{iface=eth0}"], undefined);
    now = 10_000;
    await Deno.writeTextFile(`${root}/proc/net/dev`, dev([90, 20], [0, 0]));
    const s = (await c.collect(0))!;
    assert.equal(s["net.rx_bytes_total{iface=eth0}"], 90);
    assert.equal(s["net.rx_bps{iface=eth0}"], 9);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
