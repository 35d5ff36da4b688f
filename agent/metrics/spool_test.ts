import assert from "node:assert/strict";
import { openSpool } from "./spool.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const body = (seq: number, dropped: number) => enc({ seq, dropped });

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
