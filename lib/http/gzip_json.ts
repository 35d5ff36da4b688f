import { HttpError } from "./errors.ts";
import { nulError, nulPathIn } from "./nul.ts";

/**
 * Reads a JSON request body that may be gzip-compressed (`Content-Encoding: gzip`), refusing more
 * than `maxInflated` bytes after decompression (a small zip bomb must not cost memory) and NUL
 * characters in any string (see nul.ts).
 */
export async function readJsonBody(req: Request, maxInflated: number): Promise<unknown> {
  const encoding = (req.headers.get("content-encoding") ?? "identity").toLowerCase();
  if (!req.body) {
    throw new HttpError(400, "validation", "A JSON body is required", { body: "is required" });
  }
  let stream: ReadableStream<Uint8Array> = req.body;
  if (encoding === "gzip") {
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  } else if (encoding !== "identity") {
    throw new HttpError(
      415,
      "unsupported_encoding",
      `Content-Encoding "${encoding}" is not supported; use gzip`,
    );
  }
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxInflated) {
        await reader.cancel();
        throw new HttpError(
          413,
          "payload_too_large",
          `Body is larger than ${maxInflated} bytes once decompressed`,
        );
      }
      parts.push(value);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, "bad_request", "The body is not valid gzip");
  }
  const bytes = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.byteLength;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new HttpError(400, "bad_request", "The body is not valid JSON");
  }
  const nul = nulPathIn(value);
  if (nul !== undefined) throw nulError(nul);
  return value;
}
