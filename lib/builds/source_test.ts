import assert from "node:assert/strict";
import type { z } from "zod";
import {
  BranchName,
  BuildFilePath,
  CommitSha,
  GitAuth,
  gitTransport,
  GitUrl,
  gitUrlSchema,
  SubDir,
} from "./source.ts";

/** The first issue's message, or undefined when the value passes. */
function refusal(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : r.error.issues[0].message;
}

function accepts(schema: z.ZodType, values: unknown[]) {
  for (const v of values) assert.equal(refusal(schema, v), undefined, `should accept ${v}`);
}

function refuses(schema: z.ZodType, cases: [unknown, RegExp][]) {
  for (const [v, why] of cases) {
    assert.match(refusal(schema, v) ?? "(accepted)", why, JSON.stringify(v));
  }
}

Deno.test("GitUrl accepts https, http, ssh:// and scp-like URLs", () => {
  accepts(GitUrl, [
    "https://github.com/owner/repo.git",
    "https://git.example.com:8443/group/sub/repo",
    "http://127.0.0.1:3000/repo.git",
    "ssh://git@github.com/owner/repo.git",
    "ssh://git@127.0.0.1:2222/srv/git/repo.git",
    "ssh://host.example/repo",
    "ssh://git@[::1]:22/repo.git",
    "git@github.com:owner/repo.git",
    "deploy@git.example.com:/srv/repo.git",
    "github.com:owner/repo",
  ]);
});

Deno.test("GitUrl refuses credentials, other transports, local paths, options and junk", () => {
  refuses(GitUrl, [
    ["https://user:secret@github.com/o/r.git", /credentials.*token field/],
    ["https://ghp_abc@github.com/o/r.git", /credentials.*token field/],
    ["ssh://git:secret@host/r.git", /must not contain a password/],
    ["file:///srv/repo.git", /must be an https/],
    ["/srv/repo.git", /must be an https/],
    ["ext::sh -c touch% /tmp/pwned", /spaces/],
    ["ext::sh", /must be an https/],
    ["fd::17", /must be an https/],
    ["git://github.com/o/r.git", /must be an https/],
    ["ftp://example.com/r.git", /must be an https/],
    ["-uhttps://x/", /must not start with "-"/],
    ["ssh://-oProxyCommand=touch/x", /not a valid ssh/],
    ["git@-oProxyCommand=x:repo", /must be an https/],
    ["git@host:-repo", /must be an https/],
    ["https://github.com/o/r .git", /spaces/],
    ["https://github.com/o/r\n.git", /control/],
    ["", /must not be empty/],
    ["https://x/" + "a".repeat(2048), /at most 2048/],
    ["https:///path-only", /not a valid URL/],
    ["https://github.com\\@evil/r", /not a valid URL/],
    ["relative/path", /must be an https/],
  ]);
});

Deno.test("gitUrlSchema({ allowLocal: true }) admits file:// and absolute paths for admins", () => {
  const admin = gitUrlSchema({ allowLocal: true });
  accepts(admin, ["file:///srv/repo.git", "/srv/repo.git", "https://github.com/o/r"]);
  refuses(admin, [
    ["/srv/../etc", /\.\./],
    ["ext::sh", /must be an https/],
    ["https://u:p@github.com/o/r", /token field/],
  ]);
});

Deno.test("gitTransport() names how a URL is reached", () => {
  assert.equal(gitTransport("https://github.com/o/r"), "http");
  assert.equal(gitTransport("http://127.0.0.1/r"), "http");
  assert.equal(gitTransport("ssh://git@host/r"), "ssh");
  assert.equal(gitTransport("git@host:r"), "ssh");
  assert.equal(gitTransport("file:///srv/r"), "local");
  assert.equal(gitTransport("/srv/r"), "local");
});

Deno.test("BranchName follows git check-ref-format", () => {
  accepts(BranchName, [
    "main",
    "feature/login",
    "release-1.2",
    "user@work",
    "a/b/c_d",
    "x".repeat(255),
  ]);
  refuses(BranchName, [
    ["", /empty/],
    ["@", /"@"/],
    ["a..b", /\.\./],
    ["a b", /spaces/],
    ["a~1", /~/],
    ["a^", /~/],
    ["a:b", /~/],
    ["a?", /~/],
    ["a*", /~/],
    ["a[b", /~/],
    ["a\\b", /~/],
    ["a\tb", /control/],
    ["a\x7fb", /control/],
    ["-delete", /"-"/],
    ["/main", /"\/"/],
    ["main/", /"\/"/],
    ["a//b", /"\/\/"/],
    ["main.lock", /\.lock/],
    ["a.lock/b", /\.lock/],
    ["a/.hidden", /starting with "."/],
    ["main.", /end with "."/],
    ["a@{1}", /@\{/],
    ["x".repeat(256), /255/],
  ]);
});

Deno.test("SubDir and BuildFilePath are relative paths without .. segments", () => {
  for (const schema of [SubDir, BuildFilePath]) {
    accepts(schema, [".", "services/api", "docker/Dockerfile.prod", "a..b/c", "./Dockerfile"]);
    refuses(schema, [
      ["", /empty/],
      ["/etc/passwd", /relative/],
      ["../other", /\.\./],
      ["a/../../b", /\.\./],
      ["a/..", /\.\./],
      ["a\0b", /control/],
      ["a\\..\\b", /\\/],
      ["a".repeat(1025), /1024/],
    ]);
  }
});

Deno.test("CommitSha takes 40 or 64 hex digits and lower-cases them", () => {
  const sha1 = "0123456789abcdef0123456789abcdef01234567";
  assert.equal(CommitSha.parse(sha1.toUpperCase()), sha1);
  accepts(CommitSha, ["a".repeat(64)]);
  refuses(CommitSha, [
    ["abc123", /40 or 64/],
    ["g".repeat(40), /40 or 64/],
    ["a".repeat(41), /40 or 64/],
    ["HEAD", /40 or 64/],
  ]);
});

Deno.test("GitAuth takes a token or an OpenSSH key, and refuses other key formats", () => {
  const key = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQ==",
    "-----END OPENSSH PRIVATE KEY-----",
    "",
  ].join("\n");
  accepts(GitAuth, [
    { kind: "token", token: "ghp_x" },
    { kind: "token", username: "oauth2", token: "glpat-x" },
    { kind: "ssh", private_key: key },
    {
      kind: "ssh",
      private_key: key.replaceAll("\n", "\r\n"),
      known_hosts: "# pinned\n[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\n",
    },
  ]);
  refuses(GitAuth, [
    [{ kind: "token", token: "" }, /must not be empty/],
    [{ kind: "token", token: "a\nb" }, /control/],
    [{ kind: "token", username: "a:b", token: "t" }, /':'/],
    [{ kind: "ssh", private_key: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n" }, /OpenSSH format/],
    [{ kind: "ssh", private_key: key, known_hosts: "not a key line" }, /known_hosts/],
    [{ kind: "password", password: "x" }, /./],
  ]);
});
