/// <reference lib="deno.worker" />
/**
 * Sends agent reports open-loop at a fixed rate from a thread of its own and times each ack. The
 * hub under test runs on the bench's main thread: a load generator sharing that thread would stop
 * sending whenever the hub's event loop is held, and so never see the stall it is meant to time.
 *
 * Messages in: `{ type: "run", url, rate, items: { token, body }[] }`, then optionally
 * `{ type: "stop" }`. Out, once every request sent has been answered:
 * `{ type: "done", acks: [sentAt, ms][] }` with `sentAt` in ms since the epoch (comparable across
 * threads) and `ms` the time to the ack.
 */

interface Item {
  token: string;
  machineId: string;
  body: Uint8Array<ArrayBuffer>;
}

let stopped = false;

self.onmessage = async (e: MessageEvent) => {
  if (e.data.type === "stop") {
    stopped = true;
    return;
  }
  const { url, rate, items } = e.data as { url: string; rate: number; items: Item[] };
  stopped = false;
  const acks: [number, number][] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < items.length && !stopped; i++) {
    const wait = start + (i / rate) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push((async () => {
      const t = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${items[i].token}`,
          "x-capstan-machine-id": items[i].machineId,
          "content-encoding": "gzip",
        },
        body: items[i].body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`report: ${res.status}`);
      acks.push([performance.timeOrigin + t, performance.now() - t]);
    })());
  }
  await Promise.all(inflight);
  self.postMessage({ type: "done", acks });
};
