import assert from "node:assert/strict";
import postgres from "postgres";
import { encodeEnvelope, MAX_EVENT_BYTES } from "./bus.ts";
import { createPgBus } from "./pg_bus.ts";
import { waitFor } from "./test_support.ts";

const PG_URL = Deno.env.get("CAPSTAN_TEST_POSTGRES_URL");
const IN_CI = Deno.env.get("CI") === "true";
// In CI a missing database is a broken setup, so the tests run and fail; locally they are skipped.
const ignore = !PG_URL && !IN_CI;
if (ignore) console.log("pg_bus_test: CAPSTAN_TEST_POSTGRES_URL is not set, skipping [db] tests");

function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({
    name: `[db] ${name}`,
    ignore,
    fn: async () => {
      if (!PG_URL) throw new Error("CAPSTAN_TEST_POSTGRES_URL must be set when CI=true");
      await fn();
    },
  });
}

// Each run (and each test) gets its own channel, so parallel runs on one server cannot see each other.
function uniqueChannel(): string {
  return `capstan_test_${crypto.randomUUID().replaceAll("-", "")}`;
}

// A separate postgres.js client stands for a separate hub replica: its own pool and LISTEN connection.
function replica(): postgres.Sql {
  return postgres(PG_URL!, { max: 4, onnotice: () => {} });
}

dbTest(
  "createPgBus() delivers each event exactly once, in order, to every subscriber on every replica",
  async () => {
    const pgA = replica();
    const pgB = replica();
    const channel = uniqueChannel();
    const busA = createPgBus(pgA, channel);
    const busB = createPgBus(pgB, channel);
    try {
      await Promise.all([busA.ready, busB.ready]);
      const inboxes = [[], [], [], []] as [string, number][][];
      busA.subscribe((topic, data) => inboxes[0].push([topic, (data as { seq: number }).seq]));
      busA.subscribe((topic, data) => inboxes[1].push([topic, (data as { seq: number }).seq]));
      busB.subscribe((topic, data) => inboxes[2].push([topic, (data as { seq: number }).seq]));
      busB.subscribe((topic, data) => inboxes[3].push([topic, (data as { seq: number }).seq]));

      const N = 200;
      // Fired without awaiting one another: the bus itself must keep them in order.
      await Promise.all(
        Array.from({ length: N }, (_, seq) => busA.publish(`org:o1:t${seq % 3}`, { seq })),
      );
      await waitFor(
        () => inboxes.every((inbox) => inbox.length >= N),
        "all events on both replicas",
      );
      // Give duplicates, if any, time to show up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const expected = Array.from({ length: N }, (_, seq) => [`org:o1:t${seq % 3}`, seq]);
      for (const inbox of inboxes) assert.deepEqual(inbox, expected);
    } finally {
      await busA.close();
      await busB.close();
      await pgA.end();
      await pgB.end();
    }
  },
);

dbTest(
  "createPgBus() carries the largest event NOTIFY allows and rejects a bigger one",
  async () => {
    const pg = replica();
    const bus = createPgBus(pg, uniqueChannel());
    try {
      const seen: unknown[] = [];
      bus.subscribe((_topic, data) => seen.push(data));
      const overhead = encodeEnvelope({ topic: "org:o1:big", data: "", origin: bus.origin }).length;
      const largest = "x".repeat(MAX_EVENT_BYTES - overhead);
      await bus.publish("org:o1:big", largest);
      await assert.rejects(
        bus.publish("org:o1:big", largest + "x"),
        /Cannot publish to "org:o1:big": event is 8000 bytes encoded, PostgreSQL NOTIFY allows at most 7999/,
      );
      await waitFor(() => seen.length === 1, "the largest event");
      assert.equal(seen[0], largest);
    } finally {
      await bus.close();
      await pg.end();
    }
  },
);

dbTest("createPgBus() stops delivering on a replica that closed its bus", async () => {
  const pgA = replica();
  const pgB = replica();
  const channel = uniqueChannel();
  const busA = createPgBus(pgA, channel);
  const busB = createPgBus(pgB, channel);
  try {
    await Promise.all([busA.ready, busB.ready]);
    const a: unknown[] = [];
    const b: unknown[] = [];
    busA.subscribe((_topic, data) => a.push(data));
    busB.subscribe((_topic, data) => b.push(data));
    await busB.close();
    await busA.publish("org:o1:x", 1);
    await waitFor(() => a.length === 1, "the event on the open replica");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(b, []);
    await assert.rejects(busB.publish("org:o1:x", 2), /bus is closed/);
  } finally {
    await busA.close();
    await busB.close();
    await pgA.end();
    await pgB.end();
  }
});

dbTest("createPgBus() reports and skips payloads on its channel that are not events", async () => {
  const pg = replica();
  const channel = uniqueChannel();
  const errors: unknown[] = [];
  const bus = createPgBus(pg, channel, { onError: (error) => errors.push(error) });
  try {
    const seen: unknown[] = [];
    bus.subscribe((_topic, data) => seen.push(data));
    await bus.ready;
    await pg.notify(channel, "hello");
    await bus.publish("org:o1:x", "after");
    await waitFor(() => seen.length === 1, "the event after the foreign payload");
    assert.deepEqual(seen, ["after"]);
    assert.equal(errors.length, 1);
  } finally {
    await bus.close();
    await pg.end();
  }
});

Deno.test("createPgBus() refuses a channel name that is not a plain identifier", () => {
  const fake = {} as postgres.Sql;
  assert.throws(() => createPgBus(fake, "Capstan-Events"), /Cannot listen on "Capstan-Events"/);
});

dbTest(
  "createPgBus() hands handlers the data's JSON text as published, not re-encoded",
  async () => {
    const pg = replica();
    const bus = createPgBus(pg, uniqueChannel());
    try {
      const seen: [unknown, string][] = [];
      bus.subscribe((_topic, data, json) => seen.push([data, json]));
      await bus.publishJson("org:o1:x", '{ "b": 2, "a": [1] }');
      await bus.publish("org:o1:x", { a: 1 });
      await waitFor(() => seen.length === 2, "both events");
      assert.deepEqual(seen, [[{ b: 2, a: [1] }, '{ "b": 2, "a": [1] }'], [{ a: 1 }, '{"a":1}']]);
    } finally {
      await bus.close();
      await pg.end();
    }
  },
);
