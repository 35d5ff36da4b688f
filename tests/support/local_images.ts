/**
 * Local test images built from a small in-memory context and tagged by a hash of it, so each is
 * built once per machine and rebuilt only when its content changes. Shared by the template
 * stand-ins and the build-base stand-ins. The build goes through the docker CLI's legacy builder
 * with an argv (it needs no buildx plugin and never looks for a registry), so these helpers do not
 * depend on the client's own build call that some of their users test.
 */
import type { DockerClient } from "../../lib/docker/client.ts";

/** A build context: path → [mode, content]. */
export type ImageFiles = Map<string, [number, string]>;

/** The hex SHA-256 of a context's paths, modes and contents. */
export async function contextHash(files: ImageFiles): Promise<string> {
  const text = [...files].sort(([a], [b]) => a.localeCompare(b))
    .map(([p, [mode, content]]) => `${p}\0${mode}\0${content}`).join("\0\0");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const building = new Map<string, Promise<string>>();

/** Builds `repository:<hash of files>` unless the engine has it already; returns the tag. */
export async function ensureLocalImage(
  docker: DockerClient,
  repository: string,
  files: ImageFiles,
): Promise<string> {
  const tag = `${repository}:${(await contextHash(files)).slice(0, 16)}`;
  const key = `${docker.socketPath} ${tag}`;
  let pending = building.get(key);
  if (!pending) {
    pending = build(docker, tag, files);
    building.set(key, pending);
    pending.catch(() => building.delete(key));
  }
  return await pending;
}

async function build(docker: DockerClient, tag: string, files: ImageFiles): Promise<string> {
  try {
    await docker.inspectImage(tag);
    return tag; // built by an earlier run (same content, same tag)
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  const dir = await Deno.makeTempDir({ prefix: "capstan-test-image-" });
  try {
    for (const [path, [mode, content]] of files) {
      const full = `${dir}/${path}`;
      await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(full, content, { mode });
      await Deno.chmod(full, mode); // the umask must not drop the execute bits
    }
    const out = await new Deno.Command("docker", {
      args: ["-H", `unix://${docker.socketPath}`, "build", "-q", "-t", tag, dir],
      env: { DOCKER_BUILDKIT: "0" },
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`Cannot build test image ${tag}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return tag;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
