import assert from "node:assert/strict";
import { join } from "node:path";
import { BuildFailure, type FailureClass } from "../../lib/builds/failure.ts";
import { generateDeployKey } from "../../lib/builds/deploy_keys.ts";
import type { GitAuth } from "../../lib/builds/source.ts";
import { type CloneOptions, cloneSource, secretScrubber } from "./git.ts";
import { startGitHttpServer } from "../../tests/support/git_http_server.ts";
import { createRepo, git } from "../../tests/support/git_repos.ts";
import { startSshGitServer } from "../../tests/support/ssh_git_server.ts";
import { until } from "../../tests/support/process.ts";

const TOKEN = "glpat-Sup3rS3cretT0ken_9xQ";
const FILES = { "Dockerfile": "FROM scratch\n", "src/app.txt": "hello\n" };

interface Fixture {
  root: string;
  into: string;
  lines: string[];
  /** cloneSource with the fixture's folder, a log collector and generous bounds. */
  clone(o: Partial<CloneOptions> & { url: string }): ReturnType<typeof cloneSource>;
}

/** Runs `body` with a fresh folder of repositories and a clone target; checks nothing is left. */
async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "capstan-gitsrc-test-" });
  const into = join(root, "checkout");
  // The credential folders go here, so that what is left behind is this test's alone.
  const tempDir = join(root, "tmp");
  await Deno.mkdir(tempDir);
  const lines: string[] = [];
  const clone = async (o: Partial<CloneOptions> & { url: string }) => {
    await Deno.remove(into, { recursive: true }).catch(() => {});
    await Deno.mkdir(into);
    return await cloneSource({
      branch: "main",
      into,
      timeoutMs: 120_000,
      maxCheckoutBytes: 50 << 20,
      signal: new AbortController().signal,
      onLog: (l) => lines.push(l),
      tempDir,
      ...o,
    });
  };
  try {
    await body({ root, into, lines, clone });
    const left = await Array.fromAsync(Deno.readDir(tempDir));
    assert.deepEqual(left.map((e) => e.name), [], "credential folders left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Asserts the promise fails with a BuildFailure of `cls` whose message matches `re`. */
async function failsWith(
  p: Promise<unknown>,
  cls: FailureClass,
  re: RegExp,
): Promise<BuildFailure> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof BuildFailure, `expected a BuildFailure, got ${err}`);
  assert.equal(err.failure, cls, err.message);
  assert.match(err.message, re);
  return err;
}

Deno.test("cloneSource() clones the branch head over HTTP with a token, without the token in argv or env", async () => {
  await withFixture(async ({ root, into, lines, clone }) => {
    const repo = await createRepo(root, "app", FILES, {
      author: { name: "Ada Lovelace", email: "ada@example.test" },
    });
    const head = await repo.commit(
      { "src/app.txt": "hello again\n" },
      "Second commit\n\nWith a body.",
    );
    const server = startGitHttpServer({ root, token: TOKEN });
    // A git that records its argv, its environment and the credential files' modes, then runs.
    const record = join(root, "record.txt");
    const wrapper = join(root, "git-wrapper");
    await Deno.writeTextFile(
      wrapper,
      `#!/bin/sh\n{ echo "ARGV: $*"; env; [ -n "$CAPSTAN_GIT_TOKEN_FILE" ] && stat -c 'MODE %a %n' "$CAPSTAN_GIT_TOKEN_FILE" "$(dirname "$CAPSTAN_GIT_TOKEN_FILE")" "$GIT_ASKPASS"; } >> ${record}\nexec git "$@"\n`,
      { mode: 0o755 },
    );
    try {
      const got = await clone({
        url: server.url("app.git"),
        auth: { kind: "token", token: TOKEN },
        gitBin: wrapper,
      });
      assert.equal(got.commit, head);
      assert.equal(got.author, "Ada Lovelace <ada@example.test>");
      assert.equal(got.message, "Second commit\n\nWith a body.");
      assert.equal(got.knownHost, undefined);
      assert.equal(await Deno.readTextFile(join(into, "src/app.txt")), "hello again\n");
      assert.equal(await git(into, ["rev-parse", "--is-shallow-repository"]), "true");
      // The server saw the token (Basic auth with the default user name)...
      assert.ok(server.authorizations.includes(`Basic ${btoa(`x-access-token:${TOKEN}`)}`));
      // ...but it was never in git's argv or environment, only in a 0600 file in a 0700 folder.
      const recorded = await Deno.readTextFile(record);
      assert.ok(!recorded.includes(TOKEN), "token in argv or env");
      assert.match(recorded, /ARGV: .*clone --depth 1 --branch main --single-branch/);
      assert.match(recorded, /^HOME=.*capstan-clone-creds-/m);
      assert.match(recorded, /^GIT_TERMINAL_PROMPT=0$/m);
      assert.match(recorded, /^MODE 600 .*\/token$/m);
      assert.match(recorded, /^MODE 700 .*capstan-clone-creds-[^/]*$/m);
      assert.match(recorded, /^MODE 700 .*\/askpass$/m);
      const envNames = [...recorded.matchAll(/^([A-Z_0-9]+)=/gm)].map((m) => m[1]);
      assert.deepEqual(
        [...new Set(envNames)].filter((n) => !["PWD", "SHLVL", "_", "OLDPWD"].includes(n)).sort(),
        [
          "CAPSTAN_GIT_TOKEN_FILE",
          "CAPSTAN_GIT_USERNAME",
          "GIT_ASKPASS",
          "GIT_CONFIG_NOSYSTEM",
          "GIT_TERMINAL_PROMPT",
          "HOME",
          "LANG",
          "PATH",
        ],
      );
      assert.ok(lines.some((l) => /Cloning .*branch main/.test(l)), lines.join("\n"));
    } finally {
      await server.close();
    }
  });
});

Deno.test("cloneSource() fails clone_auth on a wrong or missing token, the token nowhere in logs or error", async () => {
  await withFixture(async ({ root, lines, clone }) => {
    await createRepo(root, "app", FILES);
    const server = startGitHttpServer({ root, token: TOKEN });
    try {
      const wrong = `${TOKEN}-wrong`;
      const err = await failsWith(
        clone({
          url: server.url("app.git"),
          auth: { kind: "token", username: "ci", token: wrong },
        }),
        "clone_auth",
        /authentication failed/,
      );
      assert.ok(server.authorizations.includes(`Basic ${btoa(`ci:${wrong}`)}`));
      const seen = [err.message, err.stack ?? "", ...lines].join("\n");
      for (const secret of [wrong, TOKEN, btoa(`ci:${wrong}`)]) {
        assert.ok(!seen.includes(secret), "secret in logs or error");
      }
      await failsWith(clone({ url: server.url("app.git") }), "clone_auth", /needs credentials/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("cloneSource() checks out an exact commit, served by id or found in the branch's history", async () => {
  await withFixture(async ({ root, into, lines, clone }) => {
    const repo = await createRepo(root, "app", FILES, { message: "First" });
    const wanted = await repo.commit({ "v.txt": "2\n" }, "Second");
    await repo.commit({ "v.txt": "3\n" }, "Third");
    // Not the tip of any branch (a v0 server advertises tips, so those are served by id).
    const other = await repo.commit({ "v.txt": "other\n" }, "On another branch", {
      branch: "feature",
    });
    await repo.commit({ "v.txt": "later\n" }, "Later", { branch: "feature" });
    // v2 (wants by id allowed), v0 allowing any id, and v0 serving only what it advertises.
    for (
      const opts of [{}, { protocolV2: false, allowAnySha1InWant: true }, { protocolV2: false }]
    ) {
      const server = startGitHttpServer({ root, ...opts });
      lines.length = 0;
      try {
        const got = await clone({ url: server.url("app.git"), commit: wanted.toUpperCase() });
        assert.equal(got.commit, wanted, JSON.stringify(opts));
        assert.equal(got.message, "Second");
        assert.equal(await Deno.readTextFile(join(into, "v.txt")), "2\n");
        const fellBack = lines.some((l) => /does not serve commits by id/.test(l));
        assert.equal(
          fellBack,
          opts.protocolV2 === false && !opts.allowAnySha1InWant,
          lines.join("\n"),
        );
        if (fellBack) {
          await failsWith(
            clone({ url: server.url("app.git"), commit: other }),
            "clone_failed",
            /is not on branch "main"/,
          );
        }
      } finally {
        await server.close();
      }
    }
  });
});

Deno.test("cloneSource() fails clone_failed naming a missing branch or repository", async () => {
  await withFixture(async ({ root, clone }) => {
    await createRepo(root, "app", FILES);
    const server = startGitHttpServer({ root });
    try {
      await failsWith(
        clone({ url: server.url("app.git"), branch: "no-such-branch" }),
        "clone_failed",
        /branch "no-such-branch" not found/,
      );
      await failsWith(
        clone({ url: server.url("missing.git") }),
        "clone_failed",
        /repository not found/,
      );
      await failsWith(
        clone({ url: "https://user:pw@example.test/r.git" }),
        "clone_failed",
        /token field/,
      );
      await failsWith(
        clone({ url: server.url("app.git"), branch: "--upload-pack=touch" }),
        "clone_failed",
        /Branch name/,
      );
    } finally {
      await server.close();
    }
  });
});

Deno.test("cloneSource() clones a local path (admins only) through upload-pack, shallow", async () => {
  await withFixture(async ({ root, into, clone }) => {
    const repo = await createRepo(root, "app", FILES);
    const head = await repo.commit({ "b.txt": "b\n" }, "Second");
    const got = await clone({ url: repo.bare });
    assert.equal(got.commit, head);
    assert.equal(await git(into, ["rev-list", "--count", "HEAD"]), "1");
  });
});

Deno.test("cloneSource() stops a checkout over the size limit with checkout_too_large", async () => {
  await withFixture(async ({ root, clone }) => {
    // Random bytes do not compress: the pack is as large as the file.
    const big = crypto.getRandomValues(new Uint8Array(60_000));
    const files = Object.fromEntries(
      [0, 1, 2, 3, 4].map((i) => [`blob${i}.bin`, big.map((b) => b ^ i)]),
    );
    await createRepo(root, "big", files);
    const server = startGitHttpServer({ root });
    try {
      await failsWith(
        clone({ url: server.url("big.git"), maxCheckoutBytes: 100_000 }),
        "checkout_too_large",
        /larger than the limit of 98 KiB/,
      );
      const ok = await clone({ url: server.url("big.git"), maxCheckoutBytes: 5 << 20 });
      assert.match(ok.commit, /^[0-9a-f]{40}$/);
    } finally {
      await server.close();
    }
  });
});

/** A TCP server that accepts connections and never answers: a Git host that hangs. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of listener) conns.push(c);
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/app.git`,
    conns,
    /** Resolves when every client has hung up (git's helper processes were killed). */
    async hungUp() {
      for (const c of conns) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        // Reads (and drops) git's request until the other end closes.
        const eof = (async () => {
          const buf = new Uint8Array(4096);
          try {
            while ((await c.read(buf)) !== null) { /* the request */ }
          } catch { /* reset by the peer: gone as well */ }
          return true;
        })();
        const late = new Promise<boolean>((r) => timer = setTimeout(() => r(false), 60_000));
        assert.ok(await Promise.race([eof, late]), "a git process still holds its connection");
        clearTimeout(timer);
      }
    },
    async close() {
      listener.close();
      await accepting;
      for (const c of conns) c.close();
    },
  };
}

Deno.test("cloneSource() kills git and fails timeout when the clone outlasts its limit", async () => {
  await withFixture(async ({ clone }) => {
    const server = silentServer();
    try {
      const started = Date.now();
      await failsWith(
        clone({ url: server.url, timeoutMs: 1500 }),
        "timeout",
        /longer than 2 s/,
      );
      await server.hungUp();
      assert.ok(Date.now() - started < 30_000);
    } finally {
      await server.close();
    }
  });
});

Deno.test("cloneSource() kills git and fails cancelled when the build is aborted", async () => {
  await withFixture(async ({ clone }) => {
    const server = silentServer();
    const abort = new AbortController();
    try {
      const cloning = clone({ url: server.url, signal: abort.signal });
      await until("git to connect", () => server.conns.length > 0, 60_000);
      abort.abort();
      await failsWith(cloning, "cancelled", /cancelled/);
      await server.hungUp();
      // Already aborted: fails before running anything.
      await failsWith(clone({ url: server.url, signal: abort.signal }), "cancelled", /cancelled/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("cloneSource() over SSH: a deploy key, the host key pinned on first use, a changed host key refused", async () => {
  await withFixture(async ({ root, into, lines, clone }) => {
    const repo = await createRepo(root, "app", FILES, { message: "Over SSH" });
    const key = await generateDeployKey("capstan-test-app");
    let server = await startSshGitServer({ root, authorizedKey: key.publicKey });
    try {
      const auth: GitAuth = { kind: "ssh", private_key: key.privateKey };
      const first = await clone({ url: server.url("app.git"), auth });
      assert.equal(first.message, "Over SSH");
      assert.equal(await Deno.readTextFile(join(into, "Dockerfile")), FILES.Dockerfile);
      assert.ok(first.knownHost, "first use returns the host key");
      assert.equal(first.knownHost.fingerprint, server.hostKeyFingerprint);
      assert.equal(first.knownHost.line, `[127.0.0.1]:${server.port} ${server.hostKey}`);
      assert.ok(!lines.join("\n").includes("PRIVATE KEY"));

      // Pinned: the same server passes, and nothing new is returned.
      const pinned: GitAuth = { ...auth, known_hosts: first.knownHost.line };
      const second = await clone({ url: server.url("app.git"), auth: pinned });
      assert.equal(second.commit, first.commit);
      assert.equal(second.knownHost, undefined);

      // A key the server does not know.
      const stranger = await generateDeployKey("stranger");
      await failsWith(
        clone({
          url: server.url("app.git"),
          auth: { kind: "ssh", private_key: stranger.privateKey },
        }),
        "clone_auth",
        /refused the deploy key/,
      );

      // The same address with a new host key: refused against the pinned line.
      const port = server.port;
      await server.close();
      server = await startSshGitServer({ root, authorizedKey: key.publicKey, port });
      assert.notEqual(server.hostKeyFingerprint, first.knownHost.fingerprint);
      await failsWith(
        clone({ url: server.url("app.git"), auth: pinned }),
        "clone_auth",
        /host key changed/,
      );
      await repo.commit({ "more.txt": "x" }, "Still there");
    } finally {
      await server.close();
    }
  });
});

Deno.test("secretScrubber() removes the token and its base64 and URL-encoded forms", () => {
  const token = "s3cr+t/tok=en";
  const scrub = secretScrubber([token], "ci");
  const line = [
    token,
    encodeURIComponent(token),
    btoa(token),
    btoa(`ci:${token}`),
    "Authorization: Basic " + btoa(`ci:${token}`),
  ].join(" | ");
  const out = scrub(line);
  assert.ok(!out.includes(token) && !out.includes(btoa(`ci:${token}`)), out);
  assert.ok(!out.includes(btoa(token).replace(/=+$/, "")), out);
  assert.match(out, /Authorization: Basic \[secret\]/);
  assert.equal(secretScrubber([])("nothing to hide"), "nothing to hide");
});
