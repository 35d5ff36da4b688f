/**
 * Getting a built image to the hosts that run it: copied from the builder's engine to another
 * through the hub (no registry needed), or pushed to a registry the nodes pull from.
 *
 * A copy moves the archive piece by piece as calls (lib/protocol/images.ts): each piece is read
 * from the source only after the previous one was loaded into the target, save for one read ahead,
 * so the hub holds at most two pieces of an image of any size and the slower engine sets the pace.
 */

import type { AgentCaller } from "../apps/gateway.ts";

/** Progress of a copy: archive bytes moved so far. */
export interface CopyProgress {
  bytes: number;
}

/** Where to push and how to log in; the password is sent to the agent only. */
export interface RegistryTarget {
  /** `https://registry.example.com/org` or `127.0.0.1:5000`: host (and an optional path). */
  url: string;
  username?: string;
  password?: string;
}

interface Piece {
  seq: number;
  data: string;
  last: boolean;
}

/**
 * Copies image `ref` from the engine of agent `from` to the engine of agent `to`; answers the
 * image id the target loaded (the same id: the archive carries the image's config) and the bytes
 * moved. A failure closes the source's download; the target drops a half upload after a minute.
 */
export async function copyImage(
  from: AgentCaller,
  to: AgentCaller,
  ref: string,
  onProgress?: (p: CopyProgress) => void,
): Promise<{ imageId: string; bytes: number }> {
  const { download_id } = await from.call<{ download_id: string; image_id: string }>(
    "image.save_open",
    { ref },
  );
  const uploadId = crypto.randomUUID();
  const read = (seq: number) => from.call<Piece>("image.save_read", { download_id, seq }, 120_000);
  let bytes = 0;
  let done = false;
  try {
    let next = read(0);
    for (;;) {
      const piece = await next;
      // Read ahead one piece while the target loads this one.
      if (!piece.last) {
        next = read(piece.seq + 1);
        next.catch(() => {});
      }
      const answer = await to.call<{ image_id?: string }>("image.load_chunk", {
        upload_id: uploadId,
        seq: piece.seq,
        data: piece.data,
        last: piece.last,
      }, 300_000);
      bytes += Math.floor(piece.data.length * 3 / 4) - (piece.data.match(/=+$/)?.[0].length ?? 0);
      onProgress?.({ bytes });
      if (piece.last) {
        done = true;
        if (!answer.image_id) throw new Error("The target engine named no loaded image");
        return { imageId: answer.image_id, bytes };
      }
    }
  } finally {
    if (!done) await from.call("image.save_close", { download_id }).catch(() => {});
  }
}

/** `url` as the registry part of an image reference (`host[:port][/path]`). */
export function registryPrefix(url: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
  const u = new URL(withScheme);
  return `${u.host}${u.pathname.replace(/\/+$/, "")}`;
}

/**
 * Tags image `ref` (e.g. `capstan/app:abc`) as `<registry>/<repository>:<tag>` (here
 * `127.0.0.1:5000/org/capstan/app:abc` for `http://127.0.0.1:5000/org`) and pushes it from the agent's
 * engine; answers the pushed reference and the digest the registry gave it.
 */
export async function pushImage(
  agent: AgentCaller,
  ref: string,
  registry: RegistryTarget,
  onProgress?: (line: { status?: string; id?: string; progress?: string }) => void,
): Promise<{ ref: string; digest?: string }> {
  const prefix = registryPrefix(registry.url);
  const at = ref.lastIndexOf(":");
  const hasTag = at > ref.lastIndexOf("/");
  // The whole repository path is kept: builds are tagged per app and service
  // (capstan-builds/<org id>/<app id>/<service>), and a last segment alone would collide across apps.
  const repoName = hasTag ? ref.slice(0, at) : ref;
  const tag = hasTag ? ref.slice(at + 1) : "latest";
  const { ref: target } = await agent.call<{ ref: string }>("image.tag", {
    source: ref,
    repo: `${prefix}/${repoName}`,
    tag,
  });
  const auth = registry.username !== undefined
    ? {
      username: registry.username,
      password: registry.password ?? "",
      serveraddress: prefix.split("/")[0],
    }
    : undefined;
  let digest: string | undefined;
  const stream = agent.stream("image.push", { ref: target, auth });
  try {
    for await (const chunk of stream) {
      const line = chunk as { status?: string; id?: string; progress?: string; digest?: string };
      // The digest comes twice (a field, and in the last status line) in case one chunk is
      // dropped on a congested connection.
      digest = line.digest ?? line.status?.match(/digest: (sha256:[a-f0-9]{64})/)?.[1] ?? digest;
      onProgress?.(line);
    }
  } finally {
    stream.cancel();
  }
  return { ref: target, digest };
}
