import assert from "node:assert/strict";
import { BackupRoot, failureOf, NasHost, parseListing, remoteListCommand } from "./ssh.ts";

const LIMITS = { maxEntries: 100, maxSites: 10 };
const rec = (t: number, type: string, path: string) => `${t}.5000000000 ${type} ${path}\0`;

Deno.test("parseListing() names each site's newest entry inside it, the site's own time when empty", () => {
  const out = rec(100, "d", "alpha") + rec(300, "d", "alpha/2026") +
    rec(300, "f", "alpha/2026/db.sql") +
    rec(200, "f", "alpha/old.sql") + rec(50, "d", "empty") + rec(70, "f", "single.tar") +
    rec(90, "f", "we ird\nname/x y");
  const { sites, truncated } = parseListing(out, LIMITS);
  assert.equal(truncated, false);
  assert.deepEqual(sites, [
    { name: "alpha", newestPath: "2026/db.sql", newestMtime: 300_500 },
    { name: "empty", newestPath: "", newestMtime: 50_500 },
    { name: "single.tar", newestPath: "", newestMtime: 70_500 },
    { name: "we ird\nname", newestPath: "x y", newestMtime: 90_500 },
  ]);
});

Deno.test("parseListing() says when it stopped at its bounds and skips records that do not parse", () => {
  const many = Array.from({ length: 5 }, (_, i) => rec(i, "d", `s${i}`)).join("");
  assert.equal(parseListing(many, { maxEntries: 4, maxSites: 10 }).truncated, true);
  assert.equal(parseListing(many, { maxEntries: 10, maxSites: 3 }).sites.length, 3);
  assert.equal(parseListing(many, { maxEntries: 10, maxSites: 3 }).truncated, true);
  assert.deepEqual(parseListing("garbage\0x y\0", LIMITS).sites, []);
});

Deno.test("remoteListCommand() quotes a checked root and refuses anything else", () => {
  assert.equal(
    remoteListCommand("/volume1/my backups", 5001),
    "cd -- '/volume1/my backups' && find . -mindepth 1 -maxdepth 3 -printf '%T@ %y %P\\0' | head -z -n 5001",
  );
  for (const bad of ["relative", "/a'b", "/a;b", "/a/../b", "/a$(x)", "/a\nb"]) {
    assert.equal(BackupRoot.safeParse(bad).success, false, bad);
    assert.throws(() => remoteListCommand(bad, 10));
  }
  for (const bad of ["-oProxyCommand=x", "a b", "a\nHost *"]) {
    assert.equal(NasHost.safeParse(bad).success, false, bad);
  }
  assert.equal(NasHost.safeParse("nas.example.lan").success, true);
  assert.equal(NasHost.safeParse("::1").success, true);
});

Deno.test("failureOf() names the cause of a failed check", () => {
  assert.match(failureOf(255, "Host key verification failed.", "u@h:22"), /host key verification/);
  assert.match(
    failureOf(255, "u@h: Permission denied (publickey).", "u@h:22"),
    /refused the login/,
  );
  assert.match(failureOf(2, "sh: cd: can't cd to /x", "u@h:22"), /backup root does not exist/);
  assert.match(failureOf(0, "find: unrecognized: -printf", "u@h:22"), /no -printf/);
  assert.equal(
    failureOf(1, "odd\nlast line", "u@h:22"),
    "Cannot check u@h:22: ssh exited with 1 (last line)",
  );
});
