import assert from "node:assert/strict";
import { join } from "node:path";
import { generateDeployKey, hostKeyFingerprint } from "./deploy_keys.ts";

/** Runs an OpenSSH tool (argv, no shell) and returns its stdout, throwing with stderr. */
async function sshKeygen(args: string[]): Promise<string> {
  const r = await new Deno.Command("ssh-keygen", { args, stdout: "piped", stderr: "piped" })
    .output();
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`ssh-keygen ${args.join(" ")}: ${err}`);
  return new TextDecoder().decode(r.stdout);
}

Deno.test("generateDeployKey() writes a key ssh-keygen reads back: same public key and fingerprint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-deploy-key-" });
  try {
    for (let i = 0; i < 5; i++) {
      const key = await generateDeployKey(`capstan-app-${i}`);
      assert.match(key.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
      assert.match(key.privateKey, /\n-----END OPENSSH PRIVATE KEY-----\n$/);
      assert.match(
        key.publicKey,
        new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* capstan-app-${i}$`),
      );
      assert.match(key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      const file = join(dir, `id_${i}`);
      await Deno.writeTextFile(file, key.privateKey, { mode: 0o600 });
      // -y derives the public key from the private file: this fails on any format error.
      assert.equal((await sshKeygen(["-y", "-f", file])).trim(), key.publicKey);
      const listed = await sshKeygen(["-l", "-E", "sha256", "-f", file]);
      assert.equal(listed.split(" ")[1], key.fingerprint);
      assert.match(listed, /\(ED25519\)/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateDeployKey() makes a new key each time and refuses a multi-line comment", async () => {
  const a = await generateDeployKey("x");
  const b = await generateDeployKey("x");
  assert.notEqual(a.publicKey, b.publicKey);
  assert.notEqual(a.privateKey, b.privateKey);
  await assert.rejects(() => generateDeployKey("a\nb"), /comment/);
  await assert.rejects(() => generateDeployKey(""), /comment/);
});

Deno.test("hostKeyFingerprint() matches ssh-keygen -lf for known_hosts and public key lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capstan-host-key-" });
  try {
    for (const type of ["ed25519", "ecdsa", "rsa"]) {
      const file = join(dir, `host_${type}`);
      await sshKeygen(["-q", "-t", type, "-N", "", "-C", "", "-f", file]);
      const pub = (await Deno.readTextFile(`${file}.pub`)).trim();
      const expected = (await sshKeygen(["-l", "-E", "sha256", "-f", `${file}.pub`])).split(" ")[1];
      assert.equal(hostKeyFingerprint(pub), expected, type);
      assert.equal(hostKeyFingerprint(`[127.0.0.1]:2222 ${pub}`), expected, type);
      assert.equal(hostKeyFingerprint(`@cert-authority *.example ${pub} a comment`), expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(() => hostKeyFingerprint("github.com ssh-ed25519 notbase64!"), /no SSH public key/);
  assert.throws(() => hostKeyFingerprint("host ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA=="), /no SSH/);
});
