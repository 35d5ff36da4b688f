/**
 * The loopback S3 server (tests/support/s3_server.ts) is good enough for restic: init, backup,
 * check and a byte-identical restore through `s3:https://127.0.0.1:PORT/bucket/prefix` with the
 * test CA given by `--cacert`. restic runs by argv, its password from a 0600 file, the keys in its
 * environment.
 */
import assert from "node:assert/strict";
import { startS3Server } from "./support/s3_server.ts";

const decoder = new TextDecoder();

async function restic(
  args: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  const r = await new Deno.Command("restic", {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = { stdout: decoder.decode(r.stdout), stderr: decoder.decode(r.stderr) };
  if (!r.success) throw new Error(`restic ${args[0]} exited ${r.code}: ${out.stderr.slice(-2000)}`);
  return out;
}

/** Every regular file under `dir` by relative path, with its bytes. */
async function readTree(dir: string, rel = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await readTree(dir, path)) out.set(k, v); }
    else if (e.isFile) out.set(path, await Deno.readFile(`${dir}/${path}`));
  }
  return out;
}

Deno.test("restic inits, backs up, checks and restores byte-identical through the HTTPS s3rver", async () => {
  const s3 = await startS3Server({ bucket: "snapshots" });
  const work = await Deno.makeTempDir({ prefix: "capstan-restic-s3-" });
  try {
    const source = `${work}/source`;
    await Deno.mkdir(`${source}/nested/deeper`, { recursive: true });
    const random = new Uint8Array(3 * 1024 * 1024 + 17); // several chunks, not a round size
    for (let i = 0; i < random.length; i += 65536) {
      crypto.getRandomValues(random.subarray(i, Math.min(i + 65536, random.length)));
    }
    await Deno.writeFile(`${source}/big.bin`, random);
    await Deno.writeTextFile(`${source}/nested/hello.txt`, "hello, restic\n");
    await Deno.writeTextFile(`${source}/nested/deeper/odd name — é.txt`, "odd\n");
    await Deno.writeFile(`${source}/empty`, new Uint8Array());

    const passwordFile = `${work}/password`;
    await Deno.writeTextFile(passwordFile, crypto.randomUUID(), { mode: 0o600 });
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: work,
      XDG_CACHE_HOME: `${work}/cache`,
      RESTIC_PASSWORD_FILE: passwordFile,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const repo = [
      "-r",
      `s3:${s3.endpoint}/${s3.bucket}/org-1/target-1`,
      "--cacert",
      s3.caFile,
      "-o",
      "s3.bucket-lookup=path",
    ];

    await restic([...repo, "init"], env);
    // Two backups: the second reads the first's index and tree back from s3rver, which is where
    // undecoded aws-chunked objects (plain HTTP) would fail.
    const first = JSON.parse(
      (await restic([...repo, "backup", "--json", source], env)).stdout.trim().split("\n").at(-1)!,
    );
    assert.deepEqual(first.message_type, "summary");
    await Deno.writeTextFile(`${source}/nested/hello.txt`, "hello again, restic\n");
    const second = JSON.parse(
      (await restic([...repo, "backup", "--json", source], env)).stdout.trim().split("\n").at(-1)!,
    );
    assert.deepEqual(second.message_type, "summary");
    assert.deepEqual(second.files_changed, 1);
    assert(second.data_added < first.data_added, "the second backup only adds what changed");

    await restic([...repo, "check", "--read-data"], env);
    await restic([...repo, "restore", "latest", "--target", `${work}/restored`], env);

    const want = await readTree(source);
    const got = await readTree(`${work}/restored${source}`);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [path, bytes] of want) assert.deepEqual(got.get(path), bytes, path);
  } finally {
    await s3.close();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
