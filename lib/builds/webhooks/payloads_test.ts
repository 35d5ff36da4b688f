import assert from "node:assert/strict";
import { MAX_AUTHOR, MAX_MESSAGE, type NormalizedDelivery, parseDelivery } from "./payloads.ts";
import type { Provider } from "./providers.ts";
import gitlabPush from "../testdata/webhooks/gitlab_push.json" with { type: "json" };
import gitlabTagPush from "../testdata/webhooks/gitlab_tag_push.json" with { type: "json" };
import giteaPush from "../testdata/webhooks/gitea_push.json" with { type: "json" };
import bitbucketPush from "../testdata/webhooks/bitbucket_push.json" with { type: "json" };
import { githubExamples } from "../../../tests/support/webhook_signing.ts";

const ZERO = "0".repeat(40);
// deno-lint-ignore no-explicit-any
type Json = any;

const copy = <T>(v: T): Json => structuredClone(v);

function asPush(d: NormalizedDelivery) {
  assert.equal(d.kind, "push", JSON.stringify(d));
  return d as Extract<NormalizedDelivery, { kind: "push" }>;
}

Deno.test("parseDelivery() github: every published push example normalises", () => {
  const pushes = githubExamples("push");
  assert.ok(pushes.length >= 5);
  for (const ex of pushes) {
    const p = asPush(parseDelivery("github", "push", ex));
    assert.equal(p.ref, ex.ref);
    assert.equal(p.deleted, ex.deleted);
    assert.equal(p.commit, ex.deleted ? ZERO : ex.head_commit?.id ?? ex.after);
    assert.ok(p.repoUrls.includes(ex.repository.clone_url));
    assert.ok(p.repoUrls.includes(ex.repository.ssh_url));
    assert.ok(p.repoUrls.includes(ex.repository.html_url));
  }
});

Deno.test("parseDelivery() github: a branch push has branch, commit, author and message", () => {
  const ex = githubExamples("push").find((e) => e.ref === "refs/heads/master" && !e.deleted);
  const p = asPush(parseDelivery("github", "push", ex));
  assert.equal(p.branch, "master");
  assert.equal(p.tag, undefined);
  assert.equal(p.commit, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
  assert.equal(p.author, "Codertocat");
  assert.equal(p.message, "Initial commit");
  assert.deepEqual(p.repoUrls, [
    "https://github.com/Codertocat/Hello-World.git",
    "git@github.com:Codertocat/Hello-World.git",
    "https://github.com/Codertocat/Hello-World",
  ]);
});

Deno.test("parseDelivery() github: a tag push sets tag, not branch; a tag deletion is deleted", () => {
  const pushes = githubExamples("push");
  const created = asPush(
    parseDelivery(
      "github",
      "push",
      pushes.find((e) => e.ref.startsWith("refs/tags/") && !e.deleted),
    ),
  );
  assert.equal(created.tag, "simple-tag");
  assert.equal(created.branch, undefined);
  assert.equal(created.deleted, false);
  const gone = asPush(parseDelivery("github", "push", pushes.find((e) => e.deleted)));
  assert.equal(gone.tag, "simple-tag");
  assert.equal(gone.deleted, true);
  assert.equal(gone.commit, ZERO);
  assert.equal(gone.author, undefined);
});

Deno.test("parseDelivery() github: a branch deletion (after = 0…0) is deleted", () => {
  const ex = copy(githubExamples("push").find((e) => e.ref === "refs/heads/master"));
  Object.assign(ex, { after: ZERO, deleted: true, head_commit: null, commits: [] });
  const p = asPush(parseDelivery("github", "push", ex));
  assert.equal(p.branch, "master");
  assert.equal(p.deleted, true);
  assert.equal(p.commit, ZERO);
  // The zero SHA alone is enough, whatever `deleted` says.
  ex.deleted = false;
  assert.equal(asPush(parseDelivery("github", "push", ex)).deleted, true);
});

Deno.test("parseDelivery() github: ping examples are pings; other events are ignored", () => {
  for (const ex of githubExamples("ping")) {
    assert.deepEqual(parseDelivery("github", "ping", ex), { kind: "ping" });
  }
  const issue = githubExamples("issues")[0];
  const d = parseDelivery("github", "issues", issue);
  assert.equal(d.kind, "ignored");
  assert.match((d as { reason: string }).reason, /"issues" is not a push/);
  assert.equal(parseDelivery("github", undefined, issue).kind, "ignored");
  // Only GitHub sends pings.
  assert.equal(parseDelivery("gitea", "ping", githubExamples("ping")[0]).kind, "ignored");
});

const DOCUMENTED: [
  Provider,
  string,
  unknown,
  { ref: string; commit: string; author: string; message: string; repoUrls: string[] },
][] = [
  ["gitlab", "Push Hook", gitlabPush, {
    ref: "refs/heads/main",
    commit: "9e2d41c07a5b8f3e6d1c4b7a0f9e8d7c6b5a4f3e",
    author: "Ada Lovelace",
    message: "Fix the checkout total",
    repoUrls: [
      "https://gitlab.example.com/acme/shop.git",
      "git@gitlab.example.com:acme/shop.git",
      "https://gitlab.example.com/acme/shop",
    ],
  }],
  ["bitbucket", "repo:push", bitbucketPush, {
    ref: "refs/heads/main",
    commit: "c4b2b7914156a878aa7c9da452a09fb50c2091f2",
    author: "Ada Lovelace", // the email of `raw` is left out
    message: "Fix the checkout total",
    repoUrls: [
      "https://bitbucket.org/acme/shop.git",
      "git@bitbucket.org:acme/shop.git",
      "https://bitbucket.org/acme/shop",
    ],
  }],
  ["gitea", "push", giteaPush, {
    ref: "refs/heads/develop",
    commit: "b7d9f1a3c5e7092b4d6f8a0c2e4b6d8f0a2c4e61",
    author: "Ada Lovelace",
    message: "Deploy on push",
    repoUrls: [
      "https://git.example.com/acme/shop.git",
      "ssh://git@git.example.com:2222/acme/shop.git",
      "https://git.example.com/acme/shop",
    ],
  }],
];

Deno.test("parseDelivery() normalises the documented push of GitLab, Bitbucket and Gitea", () => {
  for (const [provider, event, body, want] of DOCUMENTED) {
    const branch = want.ref.replace("refs/heads/", "");
    assert.deepEqual(
      parseDelivery(provider, event, body),
      { kind: "push", ...want, branch, deleted: false },
      provider,
    );
  }
});

Deno.test("parseDelivery() gitlab: when the head is not among commits, the last one is used", () => {
  // When the head commit is not among `commits` (more than 20 pushed), the last one is used.
  const ex = copy(gitlabPush);
  ex.commits.pop();
  const q = asPush(parseDelivery("gitlab", "Push Hook", ex));
  assert.equal(q.commit, "9e2d41c07a5b8f3e6d1c4b7a0f9e8d7c6b5a4f3e");
  assert.equal(q.author, "Grace Hopper");
  assert.equal(q.message, "Add the cart page\n\nCloses #12");
});

Deno.test("parseDelivery() gitlab: a tag push is a tag at checkout_sha, not the tag object", () => {
  const p = asPush(parseDelivery("gitlab", "Tag Push Hook", gitlabTagPush));
  assert.equal(p.tag, "v1.4.0");
  assert.equal(p.branch, undefined);
  assert.equal(p.commit, "9e2d41c07a5b8f3e6d1c4b7a0f9e8d7c6b5a4f3e");
  assert.equal(p.author, undefined);
});

Deno.test("parseDelivery() gitlab: a branch deletion is deleted; other hooks are ignored", () => {
  const ex = copy(gitlabPush);
  Object.assign(ex, { after: ZERO, checkout_sha: null, commits: [], total_commits_count: 0 });
  const p = asPush(parseDelivery("gitlab", "Push Hook", ex));
  assert.equal(p.branch, "main");
  assert.equal(p.deleted, true);
  assert.equal(p.commit, ZERO);
  assert.equal(parseDelivery("gitlab", "Merge Request Hook", gitlabPush).kind, "ignored");
  assert.equal(parseDelivery("gitlab", "push", gitlabPush).kind, "ignored");
});

Deno.test("parseDelivery() bitbucket: of several changes, the last with a new side counts", () => {
  // Two refs in one push: the last change with a `new` side wins, a later deletion does not.
  const ex = copy(bitbucketPush);
  const first = copy(ex.push.changes[0]);
  first.new.name = "staging";
  const deletion = { ...copy(ex.push.changes[0]), new: null, closed: true };
  deletion.old.name = "old-feature";
  ex.push.changes = [first, ex.push.changes[0], deletion];
  assert.equal(asPush(parseDelivery("bitbucket", "repo:push", ex)).branch, "main");
});

Deno.test("parseDelivery() bitbucket: tag push, deletion, other ref types and events", () => {
  const tag = copy(bitbucketPush);
  Object.assign(tag.push.changes[0].new, { type: "tag", name: "v2.0.0" });
  tag.push.changes[0].old = null;
  const t = asPush(parseDelivery("bitbucket", "repo:push", tag));
  assert.equal(t.tag, "v2.0.0");
  assert.equal(t.branch, undefined);
  assert.equal(t.ref, "refs/tags/v2.0.0");

  const del = copy(bitbucketPush);
  Object.assign(del.push.changes[0], { new: null, closed: true });
  const d = asPush(parseDelivery("bitbucket", "repo:push", del));
  assert.equal(d.branch, "main");
  assert.equal(d.deleted, true);
  assert.equal(d.commit, ZERO);
  assert.equal(d.message, undefined);

  const hg = copy(bitbucketPush);
  hg.push.changes[0].new.type = "named_branch";
  assert.equal(parseDelivery("bitbucket", "repo:push", hg).kind, "ignored");
  assert.equal(parseDelivery("bitbucket", "repo:fork", bitbucketPush).kind, "ignored");
  assert.equal(parseDelivery("bitbucket", "repo:push", { push: { changes: [] } }).kind, "ignored");
});

Deno.test("parseDelivery() gitea: push, tag, deletion and other events", () => {
  // Newer Gitea and Forgejo send head_commit too; it is preferred over `commits`.
  const withHead = copy(giteaPush);
  withHead.head_commit = { ...withHead.commits[0], message: "From head_commit" };
  assert.equal(asPush(parseDelivery("gitea", "push", withHead)).message, "From head_commit");

  const tag = copy(giteaPush);
  tag.ref = "refs/tags/v1";
  const t = asPush(parseDelivery("gitea", "push", tag));
  assert.equal(t.tag, "v1");
  assert.equal(t.branch, undefined);

  const del = copy(giteaPush);
  Object.assign(del, { after: ZERO, commits: [] });
  const d = asPush(parseDelivery("gitea", "push", del));
  assert.equal(d.deleted, true);
  assert.equal(d.branch, "develop");
  assert.equal(parseDelivery("gitea", "issues", giteaPush).kind, "ignored");
  assert.equal(parseDelivery("gitea", "create", giteaPush).kind, "ignored");
});

Deno.test("parseDelivery() cuts author and message without refusing, and cleans them", () => {
  const ex = copy(giteaPush);
  ex.commits[0].message = "x".repeat(MAX_MESSAGE - 1) + "😀 and more";
  ex.commits[0].author.name = "A".repeat(MAX_AUTHOR + 100);
  const p = asPush(parseDelivery("gitea", "push", ex));
  assert.equal(p.message, "x".repeat(MAX_MESSAGE - 1), "the cut does not split the emoji");
  assert.equal(p.author?.length, MAX_AUTHOR);

  ex.commits[0].message = "line one\r\nline\u0000 two\u001b[31m\n";
  ex.commits[0].author.name = "Eve\nMallory";
  const q = asPush(parseDelivery("gitea", "push", ex));
  assert.equal(q.message, "line one\nline two[31m");
  assert.equal(q.author, "Eve Mallory");
  // Wrongly typed optional fields are left out, the push still counts.
  ex.commits[0].message = 42;
  ex.commits[0].author = "nobody";
  ex.repository.clone_url = { evil: true };
  const r = asPush(parseDelivery("gitea", "push", ex));
  assert.equal(r.message, undefined);
  assert.equal(r.author, undefined);
  assert.equal(r.repoUrls.length, 2);
});

Deno.test("parseDelivery() refuses refs git would refuse, and odd SHAs", () => {
  const bad = [
    "refs/heads/-rf",
    "refs/heads/a..b",
    "refs/heads/with space",
    "refs/heads/x.lock",
    "refs/heads/a//b",
    "refs/heads/",
    "refs/heads/a:b",
    "refs/heads/@{1}",
    "refs/pull/1/head",
    "main",
    "refs/heads/" + "b".repeat(300),
  ];
  for (const ref of bad) {
    const d = parseDelivery("gitea", "push", { ...copy(giteaPush), ref });
    assert.equal(d.kind, "ignored", ref);
  }
  const ok = asPush(
    parseDelivery("gitea", "push", { ...copy(giteaPush), ref: "refs/heads/feat/x-1.2" }),
  );
  assert.equal(ok.branch, "feat/x-1.2");
  for (const after of ["abc", "z".repeat(40), "0".repeat(64), 7]) {
    assert.equal(parseDelivery("gitea", "push", { ...copy(giteaPush), after }).kind, "ignored");
  }
  const upper = { ...copy(giteaPush), after: "B7D9F1A3C5E7092B4D6F8A0C2E4B6D8F0A2C4E61" };
  assert.equal(asPush(parseDelivery("gitea", "push", upper)).commit, giteaPush.after);
});

Deno.test("parseDelivery() never throws on any JSON for any provider", () => {
  const shapes: unknown[] = [null, 0, "push", [], {}, { ref: 1 }, { push: null }, {
    push: { changes: "x" },
  }];
  const events: Record<Provider, string> = {
    github: "push",
    gitlab: "Push Hook",
    bitbucket: "repo:push",
    gitea: "push",
  };
  for (const [provider, event] of Object.entries(events) as [Provider, string][]) {
    for (const json of shapes) {
      assert.equal(
        parseDelivery(provider, event, json).kind,
        "ignored",
        `${provider} ${JSON.stringify(json)}`,
      );
    }
  }
});
