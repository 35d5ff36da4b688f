/**
 * The agent's side of moving images between hosts (lib/protocol/images.ts): tag, push to a
 * registry, and an image's archive read out of one engine (`image.save_*`) and fed into another
 * (`image.load_chunk`) piece by piece, each piece a call, so the slower engine sets the pace.
 *
 * Both directions are bounded: a few transfers at once, a cap on the bytes one upload may carry,
 * and a transfer nobody touched for a minute is dropped (its engine request aborted).
 */

import type * as z from "zod";
import type { DockerClient } from "../lib/docker/client.ts";
import { enc } from "../lib/docker/transport.ts";
import { splitImageRef } from "../lib/docker/validate.ts";
import { IMAGE_CALL_OPS, IMAGE_CHUNK_BYTES, IMAGE_STREAM_OPS } from "../lib/protocol/images.ts";
import { base64, fromBase64 } from "../lib/util/ids.ts";
import { OpError } from "./control.ts";
import { type RawEngine, rawEngine, readProgress } from "./engine_http.ts";

/** Bounds of the archive transfers one agent serves. */
export interface ImageTransferLimits {
  /** Downloads (`image.save_open`) open at once. */
  maxDownloads?: number;
  /** Uploads (`image.load_chunk`) open at once. */
  maxUploads?: number;
  /** Bytes one upload may carry. */
  maxUploadBytes?: number;
  /** A transfer untouched this long is dropped. */
  idleMs?: number;
}

type ImageCalls = {
  [O in keyof typeof IMAGE_CALL_OPS]: (p: z.output<(typeof IMAGE_CALL_OPS)[O]>) => Promise<unknown>;
};

/** One piece of a download as `image.save_read` answers it. */
interface Piece {
  seq: number;
  data: string;
  last: boolean;
}

interface Transfer {
  engine: RawEngine;
  abort: AbortController;
  timer?: ReturnType<typeof setTimeout>;
  busy: boolean;
  /** The next `seq` expected. */
  next: number;
}

interface Download extends Transfer {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes read from the engine but not yet answered. */
  pending: Uint8Array;
  done: boolean;
  previous?: Piece;
}

interface Upload extends Transfer {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  response: Promise<Response>;
  bytes: number;
}

const busy = () =>
  new OpError({ status: 409, code: "conflict", message: "The transfer is busy with a piece" });

/** Tag, push and archive transfers against the local engine. */
export function imageOps(docker: DockerClient, limits: ImageTransferLimits = {}) {
  const maxDownloads = limits.maxDownloads ?? 4;
  const maxUploads = limits.maxUploads ?? 4;
  const maxUploadBytes = limits.maxUploadBytes ?? 10 * 1024 ** 3;
  const idleMs = limits.idleMs ?? 60_000;
  const downloads = new Map<string, Download>();
  const uploads = new Map<string, Upload>();

  function drop<T extends Transfer>(map: Map<string, T>, id: string) {
    const t = map.get(id);
    if (!t) return;
    map.delete(id);
    clearTimeout(t.timer);
    t.abort.abort();
    t.engine.close();
  }

  /** Restarts a transfer's idle timer (it must not keep the agent alive on its own). */
  function touch<T extends Transfer>(map: Map<string, T>, id: string, t: T) {
    clearTimeout(t.timer);
    t.timer = setTimeout(() => drop(map, id), idleMs);
    Deno.unrefTimer(t.timer);
  }

  /** Runs one piece of a transfer: one at a time, in order, and any failure ends the transfer. */
  async function piece<T extends Transfer, R>(
    map: Map<string, T>,
    id: string,
    t: T,
    fn: () => Promise<R>,
  ): Promise<R> {
    if (t.busy) throw busy();
    t.busy = true;
    try {
      const r = await fn();
      // A finished transfer was dropped by `fn`; only a running one waits for its next piece.
      if (map.get(id) === t) touch(map, id, t);
      return r;
    } catch (err) {
      drop(map, id);
      throw err;
    } finally {
      t.busy = false;
    }
  }

  async function readPiece(d: Download): Promise<Piece> {
    while (!d.done && d.pending.length < IMAGE_CHUNK_BYTES) {
      const r = await d.reader.read();
      if (r.done) d.done = true;
      else d.pending = concat(d.pending, r.value);
    }
    const data = d.pending.subarray(0, IMAGE_CHUNK_BYTES);
    d.pending = d.pending.slice(data.length);
    return { seq: d.next++, data: base64(data), last: d.done && d.pending.length === 0 };
  }

  const calls: ImageCalls = {
    "image.tag": async (p) => {
      const engine = rawEngine(docker.socketPath);
      try {
        const res = await engine.send({
          method: "POST",
          path: `/images/${enc(p.source)}/tag`,
          query: { repo: p.repo, tag: p.tag },
          signal: AbortSignal.timeout(30_000),
        });
        await res.body?.cancel();
      } finally {
        engine.close();
      }
      return { ref: `${p.repo}:${p.tag}` };
    },
    "image.save_open": async (p) => {
      if (downloads.size >= maxDownloads) {
        throw new OpError({
          status: 429,
          code: "too_many_transfers",
          message: `At most ${maxDownloads} image downloads at once`,
        });
      }
      const image = await docker.inspectImage(p.ref, { signal: AbortSignal.timeout(30_000) });
      const engine = rawEngine(docker.socketPath);
      const abort = new AbortController();
      let res: Response;
      try {
        res = await engine.send({
          method: "GET",
          path: `/images/${enc(p.ref)}/get`,
          signal: abort.signal,
        });
      } catch (err) {
        engine.close();
        throw err;
      }
      const id = crypto.randomUUID();
      const d: Download = {
        engine,
        abort,
        busy: false,
        next: 0,
        reader: res.body!.getReader(),
        pending: new Uint8Array(0),
        done: false,
      };
      downloads.set(id, d);
      touch(downloads, id, d);
      return { download_id: id, image_id: image.Id };
    },
    "image.save_read": (p) => {
      const d = downloads.get(p.download_id);
      if (!d) throw notFound("download");
      if (d.previous && p.seq === d.previous.seq) return Promise.resolve(d.previous);
      if (p.seq !== d.next) throw outOfOrder(d.next, p.seq);
      return piece(downloads, p.download_id, d, async () => {
        const got = await readPiece(d);
        d.previous = got;
        if (got.last) drop(downloads, p.download_id);
        return got;
      });
    },
    "image.save_close": (p) => {
      const had = downloads.has(p.download_id);
      drop(downloads, p.download_id);
      return Promise.resolve({ closed: had });
    },
    "image.load_chunk": async (p) => {
      let u = uploads.get(p.upload_id);
      if (!u) {
        if (p.seq !== 0) throw notFound("upload");
        u = startUpload(p.upload_id);
      }
      if (p.seq !== u.next) throw outOfOrder(u.next, p.seq);
      const upload = u;
      return await piece(uploads, p.upload_id, upload, async () => {
        const bytes = fromBase64(p.data);
        upload.bytes += bytes.length;
        if (upload.bytes > maxUploadBytes) {
          throw new OpError({
            status: 413,
            code: "too_large",
            message: `An image archive may carry at most ${maxUploadBytes} bytes`,
          });
        }
        // The engine failing (not a tar, disk full) ends the body: surface its answer then.
        const failed = upload.response.then(() => new Promise<never>(() => {}));
        if (bytes.length) await Promise.race([upload.writer.write(bytes), failed]);
        upload.next++;
        if (!p.last) return { received: upload.bytes };
        await Promise.race([upload.writer.close(), failed]);
        const loaded = await finishLoad(await upload.response);
        drop(uploads, p.upload_id);
        return loaded;
      });
    },
  };

  function startUpload(id: string): Upload {
    if (uploads.size >= maxUploads) {
      throw new OpError({
        status: 429,
        code: "too_many_transfers",
        message: `At most ${maxUploads} image uploads at once`,
      });
    }
    const engine = rawEngine(docker.socketPath);
    const abort = new AbortController();
    const body = new TransformStream<Uint8Array, Uint8Array>();
    const response = engine.send({
      method: "POST",
      path: "/images/load",
      query: { quiet: "1" },
      headers: { "content-type": "application/x-tar" },
      body: body.readable,
      signal: abort.signal,
    });
    response.catch(() => {});
    const u: Upload = {
      engine,
      abort,
      busy: false,
      next: 0,
      writer: body.writable.getWriter(),
      response,
      bytes: 0,
    };
    u.writer.closed.catch(() => {});
    uploads.set(id, u);
    touch(uploads, id, u);
    return u;
  }

  /** What the engine says it loaded: the image id and the references it tagged. */
  async function finishLoad(res: Response): Promise<{ image_id: string; refs: string[] }> {
    const refs: string[] = [];
    let imageId: string | undefined;
    await readProgress(res, (l) => {
      const text = l.stream ?? "";
      for (const m of text.matchAll(/Loaded image: (\S+)/g)) refs.push(m[1]);
      const byId = text.match(/Loaded image ID: (sha256:[a-f0-9]{64})/);
      if (byId) imageId = byId[1];
    });
    if (!imageId && refs[0]) {
      imageId = (await docker.inspectImage(refs[0], { signal: AbortSignal.timeout(30_000) })).Id;
    }
    if (!imageId) {
      throw new OpError({
        status: 502,
        code: "engine_error",
        message: "The engine loaded the archive but named no image",
      });
    }
    return { image_id: imageId, refs };
  }

  /** Pushes an image, emitting the engine's progress; the password never leaves for the hub. */
  async function push(params: unknown, emit: (data: unknown) => void, signal: AbortSignal) {
    const p = IMAGE_STREAM_OPS["image.push"].parse(params ?? {});
    const { name, tag } = splitImageRef(p.ref);
    // URL-safe base64 *with* padding: the engine decodes with Go's URLEncoding, and an auth it
    // cannot decode is silently treated as none.
    const auth = base64(new TextEncoder().encode(JSON.stringify(p.auth ?? {})))
      .replaceAll("+", "-").replaceAll("/", "_");
    const secret = p.auth?.password;
    const redact = (s: string) => (secret ? s.replaceAll(secret, "[redacted]") : s);
    const engine = rawEngine(docker.socketPath);
    try {
      const res = await engine.send({
        method: "POST",
        path: `/images/${enc(name)}/push`,
        query: { tag },
        headers: { "X-Registry-Auth": auth },
        signal,
      });
      await readProgress(res, (l) =>
        emit({
          status: l.status && redact(l.status),
          id: l.id,
          progress: l.progress,
          digest: l.aux?.Digest,
        }));
    } catch (err) {
      if (err instanceof Error) err.message = redact(err.message);
      throw err;
    } finally {
      engine.close();
    }
  }

  return {
    calls,
    push,
    /** Drops every open transfer (the agent stops). */
    close() {
      for (const id of [...downloads.keys()]) drop(downloads, id);
      for (const id of [...uploads.keys()]) drop(uploads, id);
    },
  };
}

function notFound(what: string) {
  return new OpError({
    status: 404,
    code: "not_found",
    message: `No such ${what}: it finished, failed or was idle too long`,
  });
}

function outOfOrder(expected: number, got: number) {
  return new OpError({
    status: 409,
    code: "out_of_order",
    message: `Expected piece ${expected}, got ${got}`,
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
