import assert from "node:assert/strict";
import { tarStream } from "./tar.ts";

Deno.test("tar: long names and link targets travel in PAX headers, and GNU tar extracts them byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-tar-" });
  try {
    const src = `${dir}/src.bin`;
    const data = new Uint8Array(70_001).map((_, i) => (i * 7919) % 251);
    await Deno.writeFile(src, data);
    const long = `nix/store/${"a".repeat(32)}-x/${"d".repeat(120)}/${"é".repeat(80)}`;
    const target = "t".repeat(150);
    const chunks: Uint8Array[] = [];
    for await (
      const c of tarStream([
        { type: "dir", name: "nix", mode: 0o755 },
        { type: "file", name: long, mode: 0o555, size: data.length, path: src },
        { type: "symlink", name: "nix/link", target },
        {
          type: "bytes",
          name: "Dockerfile",
          mode: 0o644,
          data: new TextEncoder().encode("FROM scratch\n"),
        },
      ])
    ) chunks.push(c);
    await Deno.writeFile(
      `${dir}/a.tar`,
      new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
    );
    await Deno.mkdir(`${dir}/out`);
    const r = await new Deno.Command("tar", { args: ["-xf", `${dir}/a.tar`, "-C", `${dir}/out`] })
      .output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    assert.deepEqual(await Deno.readFile(`${dir}/out/${long}`), data);
    assert.equal((await Deno.stat(`${dir}/out/${long}`)).mode! & 0o777, 0o555);
    assert.equal(await Deno.readLink(`${dir}/out/nix/link`), target);
    assert.equal(await Deno.readTextFile(`${dir}/out/Dockerfile`), "FROM scratch\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar: a file that changed size while packed is an error, not a corrupt archive", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-tar-" });
  try {
    await Deno.writeTextFile(`${dir}/f`, "short");
    const stream = tarStream([{
      type: "file",
      name: "f",
      mode: 0o644,
      size: 100,
      path: `${dir}/f`,
    }]);
    await assert.rejects(async () => {
      for await (const _ of stream) { /* drain */ }
    }, /changed size/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
