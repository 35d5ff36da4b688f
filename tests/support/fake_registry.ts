/**
 * A tiny Docker registry (distribution API v2, read-only) on loopback, serving one image whose
 * single layer is sent at a chosen pace. The engine pulls from 127.0.0.0/8 over plain HTTP by
 * default, so pull progress, cancellation and success can be tested against the real engine
 * without any real registry.
 */

/** A running fake registry. */
export interface FakeRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** The image it serves, `127.0.0.1:<port>/<repo>:<tag>`. */
  ref: string;
  /** Layer bytes sent so far (all requests). */
  sent(): number;
  close(): Promise<void>;
}

const enc = new TextEncoder();

async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return "sha256:" + [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A one-file ustar archive. */
function tar(name: string, data: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (s: string, at: number) => header.set(enc.encode(s), at);
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(data.length.toString(8).padStart(11, "0") + "\0", 124);
  put("00000000000\0", 136);
  put("        ", 148);
  put("0", 156);
  put("ustar\0", 257);
  put("00", 263);
  const sum = header.reduce((s, b) => s + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const padded = Math.ceil(data.length / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(data, 512);
  return out;
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/**
 * Starts the registry. `layerBytes` of random (incompressible) data are sent `chunk` bytes every
 * `delayMs`, so a pull takes about layerBytes / chunk × delayMs.
 */
export async function startFakeRegistry(opts: {
  repo?: string;
  tag?: string;
  labels?: Record<string, string>;
  layerBytes?: number;
  chunk?: number;
  delayMs?: number;
} = {}): Promise<FakeRegistry> {
  const repo = opts.repo ?? `capstan-test/slow-${crypto.randomUUID().slice(0, 8)}`;
  const tag = opts.tag ?? "latest";
  const payload = new Uint8Array(opts.layerBytes ?? 2 * 1024 * 1024);
  for (let i = 0; i < payload.length; i += 65536) {
    crypto.getRandomValues(payload.subarray(i, Math.min(payload.length, i + 65536)));
  }
  const layerTar = tar("payload.bin", payload);
  const layer = await gzip(layerTar);
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "amd64";
  const config = enc.encode(JSON.stringify({
    architecture: arch,
    os: "linux",
    config: { Labels: opts.labels ?? {}, Cmd: ["/payload.bin"] },
    rootfs: { type: "layers", diff_ids: [await sha256(layerTar)] },
    history: [{ created_by: "capstan fake registry" }],
  }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: {
      mediaType: "application/vnd.docker.container.image.v1+json",
      size: config.length,
      digest: await sha256(config),
    },
    layers: [{
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      size: layer.length,
      digest: await sha256(layer),
    }],
  }));
  const digests = {
    manifest: await sha256(manifest),
    config: await sha256(config),
    layer: await sha256(layer),
  };
  const chunk = opts.chunk ?? 64 * 1024;
  const delayMs = opts.delayMs ?? 50;
  let sent = 0;

  const slow = (data: Uint8Array) => {
    let at = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= data.length) return controller.close();
        if (at > 0) await new Promise((r) => (timer = setTimeout(r, delayMs)));
        const part = data.subarray(at, at + chunk);
        at += part.length;
        sent += part.length;
        controller.enqueue(part);
      },
      cancel() {
        clearTimeout(timer);
      },
    });
  };

  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    const head = req.method === "HEAD";
    const base = { "docker-distribution-api-version": "registry/2.0" };
    const reply = (body: Uint8Array, type: string, digest: string, stream = false) =>
      new Response(head ? null : stream ? slow(body) : body as BodyInit, {
        headers: {
          ...base,
          "content-type": type,
          "content-length": String(body.length),
          "docker-content-digest": digest,
        },
      });
    if (path === "/v2/" || path === "/v2") return new Response("{}", { headers: base });
    if (
      path === `/v2/${repo}/manifests/${tag}` ||
      path === `/v2/${repo}/manifests/${digests.manifest}`
    ) {
      return reply(
        manifest,
        "application/vnd.docker.distribution.manifest.v2+json",
        digests.manifest,
      );
    }
    if (path === `/v2/${repo}/blobs/${digests.config}`) {
      return reply(config, "application/octet-stream", digests.config);
    }
    if (path === `/v2/${repo}/blobs/${digests.layer}`) {
      return reply(layer, "application/octet-stream", digests.layer, true);
    }
    return new Response(JSON.stringify({ errors: [{ code: "NAME_UNKNOWN" }] }), {
      status: 404,
      headers: { ...base, "content-type": "application/json" },
    });
  });
  const host = `127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    host,
    ref: `${host}/${repo}:${tag}`,
    sent: () => sent,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}
