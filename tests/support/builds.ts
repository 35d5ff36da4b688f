/**
 * What the builds tests share: a repository's files for a small site image built FROM the test
 * busybox (its page names a version; a broken install or a missing health file on demand) and a
 * GitHub push payload naming a commit.
 */
import { TEST_IMAGE } from "../../lib/docker/testing.ts";

/** A site image from the test busybox: its page says `version`; healthy when `healthy`. */
export function site(version: string, opts: { healthy?: boolean; broken?: boolean } = {}) {
  const healthy = opts.healthy ?? true;
  return {
    Dockerfile: [
      `FROM ${TEST_IMAGE}`,
      ...(opts.broken
        ? [
          `RUN echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/does-not-exist" && exit 1`,
        ]
        : []),
      "COPY site /www",
      // A version without the file never becomes healthy.
      ...(healthy ? [] : ["RUN rm /www/healthy"]),
      `CMD ["sh", "-c", "exec httpd -f -p 80 -h /www"]`,
      "",
    ].join("\n"),
    "site/index.html": `${version}\n`,
    "site/healthy": "yes\n",
    ".dockerignore": ".git\n",
  };
}

/** A GitHub push of `sha` to main, as its webhook sends it (the fields Capstan reads). */
export function githubPush(sha: string, message: string, cloneUrl: string) {
  return JSON.stringify({
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after: sha,
    created: false,
    deleted: false,
    forced: false,
    head_commit: {
      id: sha,
      message,
      timestamp: new Date().toISOString(),
      author: { name: "Test Author", email: "author@example.test" },
    },
    commits: [],
    repository: { clone_url: cloneUrl, html_url: cloneUrl.replace(/\.git$/, "") },
    pusher: { name: "author" },
  });
}
