import assert from "node:assert/strict";
import {
  isHostPath,
  parseBytes,
  parseDuration,
  parseShortPort,
  parseShortVolume,
  splitCommand,
  ValueError,
} from "./values.ts";

Deno.test("parseDuration() behaviour: Go durations in seconds", () => {
  assert.equal(parseDuration("10s"), 10);
  assert.equal(parseDuration("1m30s"), 90);
  assert.equal(parseDuration("1h"), 3600);
  assert.equal(parseDuration("500ms"), 0.5);
  assert.equal(parseDuration("1.5s"), 1.5);
  assert.equal(parseDuration("0"), 0);
  for (const bad of ["10", "10 s", "s", "1m30", "-5s", ""]) {
    assert.throws(() => parseDuration(bad), ValueError, bad);
  }
});

Deno.test("parseBytes() behaviour: Compose sizes are binary", () => {
  assert.equal(parseBytes("512M"), 512 * 2 ** 20);
  assert.equal(parseBytes("512m"), 512 * 2 ** 20);
  assert.equal(parseBytes("1g"), 2 ** 30);
  assert.equal(parseBytes("1GB"), 2 ** 30);
  assert.equal(parseBytes("1.5GiB"), 1.5 * 2 ** 30);
  assert.equal(parseBytes("2048"), 2048);
  assert.equal(parseBytes(4096), 4096);
  for (const bad of ["lots", "1x", "-1m", 1.5]) assert.throws(() => parseBytes(bad), ValueError);
});

Deno.test("parseShortPort() behaviour: the short syntax, ranges refused", () => {
  assert.deepEqual(parseShortPort("80"), { target: 80, protocol: "tcp" });
  assert.deepEqual(parseShortPort("8080:80"), { target: 80, published: 8080, protocol: "tcp" });
  assert.deepEqual(parseShortPort("127.0.0.1:8080:80/udp"), {
    target: 80,
    published: 8080,
    protocol: "udp",
    hostIp: "127.0.0.1",
  });
  assert.deepEqual(parseShortPort("127.0.0.1::80"), {
    target: 80,
    protocol: "tcp",
    hostIp: "127.0.0.1",
  });
  assert.deepEqual(parseShortPort("[::1]:53:53/udp"), {
    target: 53,
    published: 53,
    protocol: "udp",
    hostIp: "::1",
  });
  assert.throws(
    () => parseShortPort("8000-8010:8000-8010"),
    (e: ValueError) => e.kind === "unsupported" && /ranges/.test(e.message),
  );
  assert.throws(() => parseShortPort("80/sctp"), (e: ValueError) => e.kind === "unsupported");
  for (const bad of ["0", "70000", "a:b", "1:2:3:4", "http"]) {
    assert.throws(() => parseShortPort(bad), (e: ValueError) => e.kind === "invalid", bad);
  }
});

Deno.test("parseShortVolume() behaviour: names, host paths, anonymous volumes", () => {
  assert.deepEqual(parseShortVolume("data:/var/lib/mysql"), {
    source: "data",
    target: "/var/lib/mysql",
    options: [],
  });
  assert.deepEqual(parseShortVolume("./conf:/etc/nginx:ro,z"), {
    source: "./conf",
    target: "/etc/nginx",
    options: ["ro", "z"],
  });
  assert.deepEqual(parseShortVolume("/var/cache"), { target: "/var/cache", options: [] });
  assert.deepEqual(parseShortVolume("/var/cache:ro"), { target: "/var/cache", options: ["ro"] });
  assert.ok(isHostPath("./x") && isHostPath("../x") && isHostPath("/x") && isHostPath("~/x"));
  assert.ok(!isHostPath("data"));
  assert.throws(() => parseShortVolume("a:b:c:d"), ValueError);
});

Deno.test("splitCommand() behaviour: quotes as a shell reads them, operators refused", () => {
  assert.deepEqual(splitCommand("npm run start"), ["npm", "run", "start"]);
  assert.deepEqual(splitCommand(`sh -c "echo \\"hi\\" && exit 0"`), [
    "sh",
    "-c",
    'echo "hi" && exit 0',
  ]);
  assert.deepEqual(splitCommand(`a 'b c' "" d\\ e`), ["a", "b c", "", "d e"]);
  assert.deepEqual(splitCommand("  --flag=a=b  "), ["--flag=a=b"]);
  assert.deepEqual(splitCommand(""), []);
  for (
    const cmd of ["a && b", "a | b", "a > f", "a; b", "echo $HOME", "ls *.txt", "a `b`", "# c"]
  ) {
    assert.throws(() => splitCommand(cmd), /needs a shell/, cmd);
  }
  assert.throws(() => splitCommand("'open"), /not closed/);
  assert.throws(() => splitCommand('"open'), /not closed/);
});
