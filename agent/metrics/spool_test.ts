import assert from "node:assert/strict";
import { openSpool, openSpoolRetrying } from "./spool.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const body = (seq: number, dropped: number) => enc({ seq, dropped });
const withEpoch = (seq: number, dropped: number, epoch: string) => enc({ seq, dropped, epoch });

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(`${dir}/spool`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openSpool() keeps batches in order across a restart and never reuses a seq", () =>
  withDir(async (dir) => {
    const a = await openSpool(dir);
    assert.deepEqual([await a.append(body), await a.append(body), await a.append(body)], [0, 1, 2]);
    // "Restart": a new instance on the same directory.
    const b = await openSpool(dir);
    assert.equal(b.stats().batches, 3);
    const seen = [];
    for (let head = await b.peek(); head; head = await b.peek()) {
      assert.equal(dec(head.bytes).seq, head.seq);
      seen.push(head.seq);
      await b.ack(head.seq);
    }
    assert.deepEqual(seen, [0, 1, 2]);
    // Everything sent, spool empty: the next run still continues after 2.
    const c = await openSpool(dir);
    assert.equal(await c.append(body), 3);
  }));

Deno.test("openSpool() drops the oldest batches over its bound and reports the count in later ones", () =>
  withDir(async (dir) => {
    const s = await openSpool(dir, { maxBytes: 3 * 4096 });
    for (let i = 0; i < 5; i++) await s.append(body);
    assert.deepEqual(s.stats(), { batches: 3, bytes: 3 * 4096, dropped: 2, nextSeq: 5 });
    assert.equal((await s.peek())?.seq, 2);
    await s.append(body);
    // seq 2 is being sent (peeked): the next oldest goes instead.
    assert.equal(s.stats().dropped, 3);
    await s.ack(2);
    const restarted = await openSpool(dir, { maxBytes: 3 * 4096 });
    assert.equal(restarted.stats().dropped, 3, "the counter survives a restart");
    const seq = await restarted.append(body);
    await restarted.ack(4);
    await restarted.ack(5);
    const head = (await restarted.peek())!;
    assert.deepEqual(dec(head.bytes), { seq, dropped: 3 });
  }));

Deno.test("openSpool() counts a discarded (poison) batch as dropped", () =>
  withDir(async (dir) => {
    const s = await openSpool(dir);
    await s.append(body);
    await s.append(body);
    await s.discard(0);
    assert.equal((await s.peek())?.seq, 1);
    assert.equal(s.stats().dropped, 1);
    assert.equal((await openSpool(dir)).stats().dropped, 1);
  }));

Deno.test("openSpool() recovers from a crash: half-written files go, seq follows the files", () =>
  withDir(async (dir) => {
    const s = await openSpool(dir);
    for (let i = 0; i < 3; i++) await s.append(body);
    await Deno.writeTextFile(`${dir}/0000000000000003.json.gz.tmp`, "half");
    await Deno.remove(`${dir}/state.json`);
    await Deno.writeTextFile(`${dir}/unrelated.txt`, "ignored");
    const r = await openSpool(dir);
    assert.equal(r.stats().batches, 3);
    assert.equal(r.stats().nextSeq, 3);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.ok(!names.some((n) => n.endsWith(".tmp")));
  }));

Deno.test("openSpool() serialises concurrent appends into distinct, ordered seqs", () =>
  withDir(async (dir) => {
    const s = await openSpool(dir);
    const seqs = await Promise.all(Array.from({ length: 20 }, () => s.append(body)));
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i));
    const bodies = [];
    for (let h = await s.peek(); h; h = await s.peek()) {
      bodies.push(dec(h.bytes).seq);
      await s.ack(h.seq);
    }
    assert.deepEqual(bodies, seqs);
  }));

Deno.test("openSpool() numbers in an epoch made with the spool; a spool made anew has a new one", () =>
  withDir(async (dir) => {
    const a = await openSpool(dir);
    await a.append(withEpoch);
    const first = dec((await a.peek())!.bytes).epoch;
    assert.match(first, /^[A-Za-z0-9_-]{22}$/);
    const again = await openSpool(dir);
    await again.append(withEpoch);
    await again.ack(0);
    assert.equal(dec((await again.peek())!.bytes).epoch, first, "the epoch survives a restart");
    // The spool directory is removed: numbering starts again at 0, in a new epoch.
    await Deno.remove(dir, { recursive: true });
    const fresh = await openSpool(dir);
    assert.equal(await fresh.append(withEpoch), 0);
    assert.notEqual(dec((await fresh.peek())!.bytes).epoch, first);
  }));

Deno.test("openSpool() does not use up a seq when its state cannot be written", () =>
  withDir(async (dir) => {
    const s = await openSpool(dir);
    await s.append(body);
    // Fault: the state file's temporary name is taken by a directory, so writing it fails.
    await Deno.mkdir(`${dir}/state.json.tmp`);
    await assert.rejects(s.append(body));
    await Deno.remove(`${dir}/state.json.tmp`);
    assert.equal(await s.append(body), 1, "the failed append left no gap");
  }));

Deno.test("openSpoolRetrying() fails appends while its directory is unusable and opens it once it is", () =>
  withDir(async (dir) => {
    // Fault: the spool's parent is a file, so the directory cannot be made.
    const parent = `${dir}-parent`;
    await Deno.writeTextFile(parent, "not a directory");
    let now = 0;
    const s = openSpoolRetrying(`${parent}/spool`, { retryMs: 1000, now: () => now });
    try {
      await assert.rejects(s.append(body), /cannot be opened/);
      assert.equal(await s.peek(), undefined);
      await Deno.remove(parent);
      await assert.rejects(s.append(body), /cannot be opened/, "not tried again before retryMs");
      now = 1000;
      assert.equal(await s.append(body), 0);
      assert.equal(s.stats().batches, 1);
    } finally {
      await Deno.remove(parent, { recursive: true }).catch(() => {});
    }
  }));
