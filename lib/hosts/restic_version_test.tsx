import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { ResticStatus } from "../../components/HostFacts.tsx";
import type { Hello } from "../protocol/messages.ts";
import { hostView } from "./view.ts";

const hello = (restic_version?: string | null): Hello => ({
  t: "hello",
  protocol: 1,
  agent_version: "0.1.0",
  machine_id: "machine-web-1-0001",
  hostname: "web-1",
  ...(restic_version === undefined ? {} : { restic_version }),
  engine: null,
});

dbTest(
  "the restic version of the agent's hello is kept on the host; an older agent's hello keeps it",
  async (h) => {
    const s = testServices(h);
    const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
    const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
    const version = async () => hostView(await s.hosts.get(org.id, host.id), true).restic_version;
    assert.equal(await version(), null);
    await s.hosts.recordHello(host.id, hello("0.14.0"));
    assert.equal(await version(), "0.14.0");
    await s.hosts.recordHello(host.id, hello());
    assert.equal(await version(), "0.14.0", "a hello without the field changes nothing");
    await s.hosts.recordHello(host.id, hello(null));
    assert.equal(await version(), null, "restic was removed from the host");
  },
);

Deno.test("the host page says which restic the host has, or why its volumes cannot be snapshotted", () => {
  const text = (restic_version: string | null, agent_version: string | null = "0.1.0") =>
    renderToString(<ResticStatus host={{ restic_version, agent_version }} />)
      .replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim();
  assert.equal(text("0.14.0"), "restic 0.14.0");
  assert.equal(text("0.17.3"), "restic 0.17.3");
  assert.equal(
    text(null),
    "restic is not installed: snapshots of this host's volumes are not possible — install the restic package (≥ 0.14)",
  );
  assert.match(
    text("0.12.1"),
    /^restic 0\.12\.1 is too old \(no compression\): snapshots .* \(≥ 0\.14\)$/,
  );
  assert.equal(text(null, null), "—", "before the first hello nothing is known");
});
