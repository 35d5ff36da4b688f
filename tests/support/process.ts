/** Helpers for end-to-end tests that run hubs and agents as processes and mount filesystems. */

/** A loopback port free at the moment of asking. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Waits until `check` holds, polling; throws naming `what` after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 30_000,
  everyMs = 200,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether a hub on this loopback port answers /healthz with 200. */
export async function hubHealthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

/** Why this machine cannot mount a tmpfs for a test (it needs Linux and root), or null. */
export function cannotMount(): string | null {
  if (Deno.build.os !== "linux") return "needs Linux";
  return Deno.uid() === 0 ? null : "needs root to mount a tmpfs";
}

/** Runs a command (no shell), throwing with its stderr when it fails. */
export async function run(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/** Mounts a tmpfs of `size` (e.g. "3m") on `dir`; the returned function unmounts it. */
export async function mountTmpfs(dir: string, size: string): Promise<() => Promise<void>> {
  await run("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "capstan-test", dir]);
  return () => run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
}
