/// <reference lib="deno.worker" />
/**
 * Sends agent reports open-loop at a fixed rate from a thread of its own and times each ack. The
 * hub under test runs on the bench's main thread: a load generator sharing that thread would stop
 * sending whenever the hub's event loop is held, and so never see the stall it is meant to time.
 *
 * Messages in: `{ type: "run", url, rate, items: { token, body }[] }` (open loop at `rate`
 * reports/s) or `{ type: "run", url, concurrency, items }` (closed loop: as fast as the hub acks,
 * `concurrency` in flight), then optionally `{ type: "stop" }`. Out, once every request sent has
 * been answered: `{ type: "done", acks: [sentAt, ms][], seconds, failed, firstError }` with
 * `sentAt` in ms since the epoch (comparable across threads), `ms` the time to the ack, `seconds`
 * from the first send to the last ack, and the reports answered with anything but 200 (not in
 * `acks`; the first one's status and body in `firstError`).
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
  const { url, rate, concurrency, items } = e.data as {
    url: string;
    rate?: number;
    concurrency?: number;
    items: Item[];
  };
  stopped = false;
  const acks: [number, number][] = [];
  let failed = 0;
  let firstError: string | undefined;
  const send = async (item: Item) => {
    const t = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${item.token}`,
        "x-capstan-machine-id": item.machineId,
        "content-encoding": "gzip",
      },
      body: item.body,
    });
    const text = await res.text();
    if (res.status !== 200) {
      failed++;
      firstError ??= `${res.status} ${text.slice(0, 300)}`;
      return;
    }
    acks.push([performance.timeOrigin + t, performance.now() - t]);
  };
  const start = performance.now();
  if (concurrency) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < items.length && !stopped) await send(items[next++]);
    }));
  } else {
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < items.length && !stopped; i++) {
      const wait = start + (i / rate!) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(send(items[i]));
    }
    await Promise.all(inflight);
  }
  self.postMessage({
    type: "done",
    acks,
    seconds: (performance.now() - start) / 1000,
    failed,
    firstError,
  });
};
