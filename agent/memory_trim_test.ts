import assert from "node:assert/strict";
import { silentLogger } from "../lib/log.ts";
import { until } from "../tests/support/process.ts";
import { startMemoryTrim } from "./memory_trim.ts";

function fakes() {
  const listeners = new Set<() => void>();
  let sent = 0;
  return {
    listeners,
    sent: () => sent,
    addListener: (h: () => void) => void listeners.add(h),
    removeListener: (h: () => void) => void listeners.delete(h),
    signalSelf: () => void sent++,
  };
}

Deno.test("memory trim: off without DENO_USR2_MEMORY_TRIM or off Linux (SIGUSR2 would end the process)", () => {
  for (const [env, os] of [[{}, "linux"], [{ DENO_USR2_MEMORY_TRIM: "1" }, "darwin"]] as const) {
    const f = fakes();
    const t = startMemoryTrim({ env, os, log: silentLogger, everyMs: 1, ...f });
    assert.equal(t.active, false);
    assert.equal(f.listeners.size, 0);
    t.stop();
  }
});

Deno.test("memory trim: signals itself at its pace behind a listener of its own; stop removes both", async () => {
  const f = fakes();
  const t = startMemoryTrim({
    env: { DENO_USR2_MEMORY_TRIM: "1" },
    os: "linux",
    log: silentLogger,
    everyMs: 10,
    ...f,
  });
  assert.equal(t.active, true);
  assert.equal(f.listeners.size, 1, "a listener before the first signal");
  await until("three signals", () => f.sent() >= 3, 10_000, 5);
  t.stop();
  const sent = f.sent();
  assert.equal(f.listeners.size, 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(f.sent(), sent, "no signal after stop");
});

Deno.test("memory trim: a refused signal stops the loop and nothing else", async () => {
  const f = fakes();
  let tries = 0;
  const t = startMemoryTrim({
    env: { DENO_USR2_MEMORY_TRIM: "1" },
    os: "linux",
    log: silentLogger,
    everyMs: 5,
    ...f,
    signalSelf: () => {
      tries++;
      throw new Deno.errors.NotCapable("no");
    },
  });
  await until("a first try", () => tries >= 1, 10_000, 5);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(tries, 1);
  assert.equal(f.listeners.size, 0);
  t.stop();
});

Deno.test("memory trim: the real signal, with Deno's handler on, leaves the process running", async () => {
  // A child with the variable set signals itself twice and exits 0 only if it was not killed.
  const code = `
    import { startMemoryTrim } from ${
    JSON.stringify(new URL("./memory_trim.ts", import.meta.url).href)
  };
    const t = startMemoryTrim({ env: Deno.env.toObject(), log: console, everyMs: 20 });
    if (!t.active && Deno.build.os === "linux") Deno.exit(3);
    await new Promise((r) => setTimeout(r, 200));
    t.stop();
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../deno.json", import.meta.url).pathname, code],
    env: { DENO_USR2_MEMORY_TRIM: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});
