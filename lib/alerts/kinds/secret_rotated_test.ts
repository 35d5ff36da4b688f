import assert from "node:assert/strict";
import { secretRotated } from "./secret_rotated.ts";
import type { SecretRestarts } from "./kind.ts";
import { harness, lastInfo, rule, T0 } from "./testing.ts";

const rotated = (
  version: number,
  mode: SecretRestarts["mode"],
  ...apps: SecretRestarts["apps"]
): SecretRestarts => ({
  org_id: "o1",
  secret: { id: "s1", name: "DB_PASSWORD" },
  version,
  mode,
  actor_name: "ann@acme.io",
  apps,
});

Deno.test("secret_rotated tells once per app and rotation: who rotated it, how, and what became of the app", async () => {
  const r = rule({ name: "Rotated", kind: "event", event: "secret_rotated" });
  const h = harness([r]);
  secretRotated.secretRestarts!(
    h.at(T0),
    r,
    rotated(
      4,
      "rolling",
      { id: "a1", name: "shop", deployment_number: 7 },
      { id: "a2", name: "blog", skipped: "is stopped; gets it when started" },
    ),
  );
  const ops = [...h.ops];
  assert.deepEqual(h.take(), [
    "instant app:a1/secret:s1 ok 4",
    "instant app:a2/secret:s1 ok 4",
  ]);
  assert.deepEqual(await lastInfo(ops.slice(0, 1)), {
    hostName: null,
    containerName: null,
    title: "App shop: secret DB_PASSWORD rotated to version 4",
    detail:
      "ann@acme.io rotated DB_PASSWORD to version 4 (rolling restart); shop: rolling restart started with deployment #7",
  });
  assert.equal(
    (await lastInfo(ops))?.detail,
    "ann@acme.io rotated DB_PASSWORD to version 4 (rolling restart); blog was not restarted (is stopped; gets it when started)",
  );

  // The same rotation heard again is not told again.
  secretRotated.secretRestarts!(
    h.at(T0 + 1000),
    r,
    rotated(4, "rolling", { id: "a1", name: "shop", deployment_number: 7 }),
  );
  assert.deepEqual(h.take(), []);

  // A later rotation is: a restart now, and one left for the next deployment.
  secretRotated.secretRestarts!(
    h.at(T0 + 60_000),
    r,
    rotated(5, "restart", { id: "a1", name: "shop", deployment_number: 8 }),
  );
  assert.equal(
    (await lastInfo(h.ops))?.detail,
    "ann@acme.io rotated DB_PASSWORD to version 5 (restart now); shop: restart started with deployment #8",
  );
  assert.deepEqual(h.take(), ["instant app:a1/secret:s1 ok 5"]);
  secretRotated.secretRestarts!(
    h.at(T0 + 120_000),
    r,
    rotated(6, "next_deploy", {
      id: "a1",
      name: "shop",
      skipped: "gets it at its next deployment",
    }),
  );
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: null,
    containerName: null,
    title: "App shop: secret DB_PASSWORD rotated to version 6",
    detail:
      "ann@acme.io rotated DB_PASSWORD to version 6 (at next deploy); shop gets it at its next deployment",
  });
  assert.deepEqual(h.take(), ["instant app:a1/secret:s1 ok 6"]);
});

Deno.test("secret_rotated rules are organization-wide: another scope is refused naming the field", () => {
  assert.throws(
    () =>
      rule({
        name: "R",
        kind: "event",
        event: "secret_rotated",
        scope: "host",
        scope_value: "h1",
      }),
    (e: Error & { fields?: Record<string, string> }) => Boolean(e.fields?.scope),
  );
});
