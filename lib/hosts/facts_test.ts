import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { cachedContainerName, enrolledHostFacts, hostFacts } from "./facts.ts";

const CID = "d".repeat(64);

dbTest(
  "hostFacts() and enrolledHostFacts() give live hosts' facts with numbers as numbers",
  async (h) => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const s = testServices(h, clock);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
    const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, {
      name: "web-1",
      labels: { env: "prod" },
    });
    const { host: waiting } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-2" });
    assert.deepEqual(await hostFacts(s.db, host.id), {
      id: host.id,
      org_id: org.id,
      name: "web-1",
      labels: { env: "prod" },
      enrolled_at: null,
      last_seen_at: null,
    });
    assert.deepEqual(await enrolledHostFacts(s.db), [], "no agent has enrolled yet");
    await s.hosts.enroll(SYSTEM_CTX, {
      token: enrollment.token,
      machineId: "machine-web-1-0001",
      hostname: "web-1",
    });
    const enrolled = await enrolledHostFacts(s.db);
    assert.deepEqual(enrolled.map((f) => f.id), [host.id]);
    assert.equal(enrolled[0].enrolled_at, clock.now());
    await s.hosts.remove(SYSTEM_CTX, org.id, waiting.id, { keepHistory: true });
    assert.equal(await hostFacts(s.db, waiting.id), undefined, "removed");
  },
);

dbTest("cachedContainerName() reads the host's container cache", async (h) => {
  const s = testServices(h);
  const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
  const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
  assert.equal(await cachedContainerName(s.db, host.id, CID), undefined);
  await s.hosts.applySnapshot(host, [{
    id: CID,
    name: "/api",
    image: "busybox",
    image_id: "sha256:" + "e".repeat(64),
    command: "sh",
    state: "running",
    status: "Up 1 minute",
    created: 0,
    labels: {},
    ports: [],
  }]);
  assert.equal(await cachedContainerName(s.db, host.id, CID), "/api");
});
