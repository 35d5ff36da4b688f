import assert from "node:assert/strict";
import {
  FrameDemuxer,
  jsonLines,
  LineSplitter,
  type LogLine,
  logLines,
  StreamFormatError,
} from "./streams.ts";

const te = new TextEncoder();

function frame(type: number, payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === "string" ? te.encode(payload) : payload;
  const out = new Uint8Array(8 + body.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(4, body.length, false);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function* chunked(buf: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    // A fresh copy per chunk, as fetch delivers, so no test passes by sharing one buffer.
    yield buf.slice(prev, c);
    prev = c;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

// A multiplexed stream with the awkward cases: a stdout line split over two frames with a stderr
// frame between them, an empty frame, a multi-byte character, \r\n, and no final newline.
const MUX = concat([
  frame(1, "hello\nwor"),
  frame(2, "oops\n"),
  frame(1, "ld\n"),
  frame(1, ""),
  frame(2, "caf\u00e9 \u20ac\r\n"),
  frame(0, "stdin-as-stdout\n"),
  frame(1, "tail without newline"),
]);
const MUX_LINES: LogLine[] = [
  { stream: "stdout", line: "hello" },
  { stream: "stderr", line: "oops" },
  { stream: "stdout", line: "world" },
  { stream: "stderr", line: "caf\u00e9 \u20ac" },
  { stream: "stdout", line: "stdin-as-stdout" },
  { stream: "stdout", line: "tail without newline" },
];

Deno.test("logLines() behaviour: demultiplexes frames split at every single offset", async () => {
  for (let cut = 0; cut <= MUX.length; cut++) {
    const got = await collect(logLines(chunked(MUX, [cut]), { tty: false }));
    assert.deepEqual(got, MUX_LINES, `split at ${cut}`);
  }
});

Deno.test("logLines() behaviour: demultiplexes frames split at every pair of offsets", async () => {
  for (let a = 1; a < MUX.length; a++) {
    for (let b = a; b < MUX.length; b++) {
      const got = await collect(logLines(chunked(MUX, [a, b]), { tty: false }));
      assert.deepEqual(got, MUX_LINES, `split at ${a},${b}`);
    }
  }
});

Deno.test("logLines() behaviour: one byte per chunk", async () => {
  const cuts = Array.from({ length: MUX.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(await collect(logLines(chunked(MUX, cuts), { tty: false })), MUX_LINES);
});

Deno.test("logLines() behaviour: raw TTY stream is all stdout with \\r\\n stripped", async () => {
  const raw = te.encode("one\r\ntwo\r\nthr");
  for (let cut = 0; cut <= raw.length; cut++) {
    const got = await collect(logLines(chunked(raw, [cut]), { tty: true }));
    assert.deepEqual(got, [
      { stream: "stdout", line: "one" },
      { stream: "stdout", line: "two" },
      { stream: "stdout", line: "thr" },
    ]);
  }
});

Deno.test("logLines() behaviour: parses engine timestamps off the front of each line", async () => {
  const buf = concat([
    frame(1, "2024-05-01T10:00:00.123456789Z first\n"),
    frame(2, "2024-05-01T10:00:01.5Z second line\n"),
    frame(1, "no timestamp here\n"),
  ]);
  const got = await collect(logLines(chunked(buf, [13]), { tty: false, timestamps: true }));
  assert.deepEqual(got, [
    { stream: "stdout", line: "first", ts: "2024-05-01T10:00:00.123456789Z" },
    { stream: "stderr", line: "second line", ts: "2024-05-01T10:00:01.5Z" },
    { stream: "stdout", line: "no timestamp here" },
  ]);
});

Deno.test("logLines() behaviour: caps a runaway line and resumes at the next newline", async () => {
  const long = "x".repeat(50_000);
  const buf = concat([frame(1, long.slice(0, 20_000)), frame(1, long.slice(20_000) + "\nnext\n")]);
  const got = await collect(
    logLines(chunked(buf, [7, 4096, 30_000]), { tty: false, maxLineBytes: 1024 }),
  );
  assert.equal(got.length, 2);
  assert.equal(got[0].line, "x".repeat(1024));
  assert.equal(got[0].truncated, true);
  assert.deepEqual(got[1], { stream: "stdout", line: "next" });
});

Deno.test("logLines() behaviour: refuses a stream that is not multiplexed", async () => {
  await assert.rejects(
    collect(logLines(chunked(te.encode("plain text from a TTY\n"), []), { tty: false })),
    StreamFormatError,
  );
});

Deno.test("FrameDemuxer() behaviour: reports a stream cut inside a frame", () => {
  const d = new FrameDemuxer();
  const f = frame(1, "abcdef");
  assert.deepEqual(d.push(f.subarray(0, 10)).map((x) => x.data.length), [2]);
  assert.equal(d.midFrame, true);
  d.push(f.subarray(10));
  assert.equal(d.midFrame, false);
});

Deno.test("FrameDemuxer() behaviour: reads sizes above 2^31 as unsigned", () => {
  const d = new FrameDemuxer();
  const header = new Uint8Array([1, 0, 0, 0, 0x80, 0, 0, 1]);
  assert.deepEqual(d.push(concat([header, te.encode("ab")])).map((x) => x.data.length), [2]);
  assert.equal(d.midFrame, true); // 2^31 + 1 bytes announced, 2 delivered
});

Deno.test("LineSplitter() behaviour: exact-cap lines are not truncated", () => {
  const s = new LineSplitter(4);
  const lines = s.push(te.encode("abcd\nabcde\nz"));
  assert.deepEqual(
    lines.map((l) => [new TextDecoder().decode(l.bytes), l.truncated]),
    [["abcd", false], ["abcd", true]],
  );
  const last = s.flush();
  assert.ok(last);
  assert.equal(new TextDecoder().decode(last.bytes), "z");
  assert.equal(s.flush(), null);
});

Deno.test("jsonLines() behaviour: parses objects split across chunks and skips blanks", async () => {
  const text = '{"a":1}\n\n{"b":"x\\ny"}\r\n{"c":[1,2]}';
  const buf = te.encode(text);
  for (let cut = 0; cut <= buf.length; cut++) {
    assert.deepEqual(await collect(jsonLines(chunked(buf, [cut]))), [
      { a: 1 },
      { b: "x\ny" },
      { c: [1, 2] },
    ]);
  }
});

Deno.test("jsonLines() behaviour: an over-long or invalid line is an error", async () => {
  await assert.rejects(
    collect(jsonLines(chunked(te.encode("x".repeat(100) + "\n"), []), 10)),
    /longer than 10/,
  );
  await assert.rejects(collect(jsonLines(chunked(te.encode("{nope}\n"), []))), StreamFormatError);
});
