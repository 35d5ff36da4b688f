/**
 * Several Docker Engines on one machine, each in a network namespace of its own on a shared
 * bridge, so tests can build a real multi-node Swarm (join, drain, a node killed) without more
 * machines (shared/DESIGN.md §6). Needs root, iproute2, iptables and dockerd. Every command is an
 * argument array; names carry a per-run id so two runs never touch each other's engines.
 */
import { createDockerClient, type DockerClient } from "../../lib/docker/client.ts";
import { TEST_IMAGE } from "../../lib/docker/testing.ts";

/** One namespaced engine. */
export interface NsEngine {
  name: string;
  /** The engine's address on the bridge (what Swarm advertises). */
  addr: string;
  socket: string;
  docker: DockerClient;
  /** The dockerd process; kill it to make its node go down. */
  process: Deno.ChildProcess;
  /** The engine's own directory (data root, exec root, socket, log). */
  dir: string;
}

/** A set of engines and how to take them down. */
export interface NsEngines {
  engines: NsEngine[];
  /**
   * Stops one engine hard, as a crashed machine would stop: SIGKILL to its dockerd, its
   * containerd and shims, and every process of its containers.
   */
  kill(e: NsEngine): Promise<void>;
  /** Removes services, leaves swarms, stops every dockerd and deletes namespaces and the bridge. */
  stop(): Promise<void>;
}

async function run(bin: string, args: string[], opts: { allowFail?: boolean } = {}) {
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success && !opts.allowFail) {
    throw new Error(
      `${bin} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** Sends SIGKILL to a process of ours by its id; already gone is fine. */
function killPid(pid: number) {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The process ids in a cgroup directory and below it (v1 or v2 layout). */
async function cgroupPids(dir: string): Promise<number[]> {
  const out: number[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) out.push(...await cgroupPids(`${dir}/${e.name}`));
    }
    const procs = await Deno.readTextFile(`${dir}/cgroup.procs`);
    out.push(...procs.split("\n").filter(Boolean).map(Number));
  } catch {
    // no such cgroup
  }
  return out;
}

/** Removes a cgroup directory tree once its processes are gone (deepest first). */
async function removeCgroup(dir: string) {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await removeCgroup(`${dir}/${e.name}`);
    }
    await Deno.remove(dir);
  } catch {
    // not there, or still busy: harmless
  }
}

/** The cgroup directories an engine's containers live in (`--cgroup-parent capstan-<name>`). */
async function engineCgroups(name: string): Promise<string[]> {
  const out = [`/sys/fs/cgroup/capstan-${name}`];
  try {
    for await (const c of Deno.readDir("/sys/fs/cgroup")) {
      if (c.isDirectory) out.push(`/sys/fs/cgroup/${c.name}/capstan-${name}`);
    }
  } catch {
    // no cgroup filesystem
  }
  return out;
}

/**
 * Kills what an engine left running after its dockerd: the processes of its containers (found by
 * the engine's cgroup parent) and its containerd and shims (found by the engine's own directory
 * on their command line). All of them are this test's own processes, named by id.
 */
async function killEngineLeftovers(e: NsEngine) {
  for (const cg of await engineCgroups(e.name)) (await cgroupPids(cg)).forEach(killPid);
  for await (const p of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(p.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${p.name}/cmdline`).catch(() => "");
    if (cmd.includes(`${e.dir}/`)) killPid(Number(p.name));
  }
  for (const cg of await engineCgroups(e.name)) await removeCgroup(cg);
}

/** Unmounts what dockerd mounted below `root` (network namespaces, the data root), deepest first. */
async function unmountBelow(root: string) {
  const mounts = (await Deno.readTextFile("/proc/self/mounts")).split("\n")
    .map((l) => l.split(" ")[1]).filter((m) => m?.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run("umount", ["-l", m], { allowFail: true });
}

async function waitForSocket(docker: DockerClient, proc: Deno.ChildProcess, log: string) {
  const deadline = Date.now() + 60_000;
  let exited = false;
  proc.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`dockerd exited early; see ${log}`);
    try {
      if ((await docker.ping()) === "OK") return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not answer within 60 s; see ${log}`);
}

/**
 * Starts `count` engines on a fresh bridge (10.<subnet>.0.0/24) and loads the test image into
 * each (no registry: images travel with `docker save | docker load`).
 */
export async function startNsEngines(count: number, opts: { subnet?: number } = {}): Promise<
  NsEngines
> {
  const id = crypto.randomUUID().slice(0, 6);
  const bridge = `capbr${id}`;
  const subnet = opts.subnet ?? 200 + Math.floor(Math.random() * 50);
  const root = await Deno.makeTempDir({ prefix: "capstan-engines-" });
  const engines: NsEngine[] = [];
  const namespaces: string[] = [];
  const stopAll = async () => {
    for (const e of engines) {
      try {
        e.process.kill("SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([e.process.status, new Promise((r) => setTimeout(r, 15_000))]);
      try {
        e.process.kill("SIGKILL");
      } catch {
        // already gone
      }
      e.docker.close();
      await killEngineLeftovers(e);
    }
    await unmountBelow(root);
    for (const ns of namespaces) await run("ip", ["netns", "delete", ns], { allowFail: true });
    await run("ip", ["link", "delete", bridge], { allowFail: true });
    await run("iptables", ["-D", "DOCKER-USER", "-i", bridge, "-o", bridge, "-j", "ACCEPT"], {
      allowFail: true,
    });
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    await run("ip", ["link", "add", bridge, "type", "bridge"]);
    await run("ip", ["addr", "add", `10.${subnet}.0.1/24`, "dev", bridge]);
    await run("ip", ["link", "set", bridge, "up"]);
    // Docker's FORWARD policy drops bridge-to-bridge traffic unless DOCKER-USER lets it through.
    await run("iptables", ["-I", "DOCKER-USER", "-i", bridge, "-o", bridge, "-j", "ACCEPT"], {
      allowFail: true,
    });
    const image = `${root}/image.tar`;
    await run("docker", ["save", "-o", image, TEST_IMAGE]);
    for (let i = 1; i <= count; i++) {
      const name = `capn${id}${i}`;
      const addr = `10.${subnet}.0.${10 + i}`;
      await run("ip", ["netns", "add", name]);
      namespaces.push(name);
      const host = `v${id}${i}h`;
      const peer = `v${id}${i}n`;
      await run("ip", ["link", "add", host, "type", "veth", "peer", "name", peer]);
      await run("ip", ["link", "set", host, "master", bridge, "up"]);
      await run("ip", ["link", "set", peer, "netns", name]);
      await run("ip", ["-n", name, "addr", "add", `${addr}/24`, "dev", peer]);
      await run("ip", ["-n", name, "link", "set", peer, "up"]);
      await run("ip", ["-n", name, "link", "set", "lo", "up"]);
      await run("ip", ["-n", name, "route", "add", "default", "via", `10.${subnet}.0.1`]);
      const dir = `${root}/${name}`;
      await Deno.mkdir(dir, { recursive: true });
      const socket = `${dir}/docker.sock`;
      const log = `${dir}/dockerd.log`;
      const logFile = await Deno.open(log, { write: true, create: true });
      // nsenter, not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts.
      const process = new Deno.Command("nsenter", {
        args: [
          `--net=/var/run/netns/${name}`,
          "dockerd",
          "-H",
          `unix://${socket}`,
          "--data-root",
          `${dir}/data`,
          "--exec-root",
          `${dir}/exec`,
          "--pidfile",
          `${dir}/docker.pid`,
          "--cgroup-parent",
          `capstan-${name}`,
          "--bridge",
          "none",
          "--iptables=false",
          "--containerd-namespace",
          name,
          "--containerd-plugins-namespace",
          `${name}p`,
        ],
        stdout: "null",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      // dockerd logs to stderr; keep it in a file for a failed test to point at.
      process.stderr.pipeTo(logFile.writable).catch(() => {});
      const docker = createDockerClient({ socketPath: socket, timeoutMs: 30_000 });
      const engine = { name, addr, socket, docker, process, dir };
      engines.push(engine);
      await waitForSocket(docker, process, log);
      await run("docker", ["-H", `unix://${socket}`, "load", "-q", "-i", image]);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    engines,
    async kill(e) {
      try {
        e.process.kill("SIGKILL");
      } catch {
        // already gone
      }
      await e.process.status;
      await killEngineLeftovers(e);
    },
    async stop() {
      for (const e of engines) {
        for (const s of await e.docker.listServices().catch(() => [])) {
          await e.docker.removeService(s.ID).catch(() => {});
        }
      }
      for (const e of engines) await e.docker.swarmLeave({ force: true }).catch(() => {});
      await stopAll();
    },
  };
}
