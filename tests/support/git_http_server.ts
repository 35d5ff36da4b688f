/**
 * A Git smart-HTTP server for tests: Deno.serve on a loopback port running `git http-backend` as a
 * CGI program for each request, the way a real Git host's web server does (fetch and push).
 * With a token, every request needs Basic auth whose password is the token (any user name), and
 * is answered 401 with a `WWW-Authenticate` challenge otherwise, as GitHub and GitLab do.
 */

/** Options of the test Git HTTP server. */
export interface GitHttpServerOptions {
  /** Folder holding the bare repositories (`GIT_PROJECT_ROOT`). */
  root: string;
  /** When set, Basic auth with this password is required on every request. */
  token?: string;
  /**
   * Speak protocol v2 when the client asks (default true). With false the server speaks v0, where
   * upload-pack refuses a commit id it did not advertise unless `allowAnySha1InWant`.
   */
  protocolV2?: boolean;
  /** Sets `uploadpack.allowAnySHA1InWant` (a fetch of any commit by id, over v0 too). */
  allowAnySha1InWant?: boolean;
}

/** A running test Git server. */
export interface GitHttpServer {
  /** The clone URL of `<root>/<repo>` (e.g. `url("app.git")`). */
  url(repo: string): string;
  /** Authorization header values seen so far (to assert what the client sent). */
  authorizations: string[];
  close(): Promise<void>;
}

const HEADER_END = /\r?\n\r?\n/;

/** The CGI environment for one request (http-backend reads only these). */
function cgiEnv(req: Request, opts: GitHttpServerOptions, user: string | null) {
  const url = new URL(req.url);
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    GIT_PROJECT_ROOT: opts.root,
    GIT_HTTP_EXPORT_ALL: "1",
    GIT_CONFIG_NOSYSTEM: "1",
    HOME: opts.root,
    GATEWAY_INTERFACE: "CGI/1.1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ""),
    REQUEST_METHOD: req.method,
    REMOTE_ADDR: "127.0.0.1",
    // http-backend allows receive-pack (push) only for an authenticated user.
    REMOTE_USER: user ?? "tester",
  };
  const copy: [string, string][] = [
    ["content-type", "CONTENT_TYPE"],
    ["content-length", "CONTENT_LENGTH"],
    ["content-encoding", "HTTP_CONTENT_ENCODING"],
  ];
  if (opts.protocolV2 ?? true) copy.push(["git-protocol", "HTTP_GIT_PROTOCOL"]);
  for (const [header, name] of copy) {
    const v = req.headers.get(header);
    if (v) env[name] = v;
  }
  if (opts.allowAnySha1InWant) {
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = "uploadpack.allowAnySHA1InWant";
    env.GIT_CONFIG_VALUE_0 = "true";
  }
  return env;
}

/** The user of a request whose Basic auth password is the token, or null. */
function authorizedUser(req: Request, token: string): string | null {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.get("authorization") ?? "");
  if (!m) return null;
  const decoded = atob(m[1]);
  const colon = decoded.indexOf(":");
  if (colon < 0 || decoded.slice(colon + 1) !== token) return null;
  return decoded.slice(0, colon) || "token";
}

/** Turns the CGI program's output (headers, blank line, body) into a streamed Response. */
async function cgiResponse(stdout: ReadableStream<Uint8Array>): Promise<Response> {
  const reader = stdout.getReader();
  let head = new Uint8Array(0);
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return new Response("CGI program ended before its headers", { status: 502 });
    const joined = new Uint8Array(head.length + value.length);
    joined.set(head);
    joined.set(value, head.length);
    head = joined;
    const text = dec.decode(head);
    const end = HEADER_END.exec(text);
    if (!end) continue;
    const headerText = text.slice(0, end.index);
    const bodyStart = new TextEncoder().encode(text.slice(0, end.index + end[0].length)).length;
    const headers = new Headers();
    let status = 200;
    for (const line of headerText.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = parseInt(value, 10);
      else headers.append(name, value);
    }
    const rest = head.subarray(bodyStart);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        if (rest.length) c.enqueue(rest);
      },
      async pull(c) {
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel() {
        return reader.cancel();
      },
    });
    return new Response(status === 204 || status === 304 ? null : body, { status, headers });
  }
}

/** Starts the server on 127.0.0.1 and a free port. */
export function startGitHttpServer(opts: GitHttpServerOptions): GitHttpServer {
  const authorizations: string[] = [];
  const children = new Set<Promise<unknown>>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const auth = req.headers.get("authorization");
      if (auth) authorizations.push(auth);
      let user: string | null = null;
      if (opts.token !== undefined) {
        user = authorizedUser(req, opts.token);
        if (!user) {
          await req.body?.cancel();
          return new Response("authentication required\n", {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="capstan-test-git"' },
          });
        }
      }
      const child = new Deno.Command("git", {
        args: ["http-backend"],
        clearEnv: true,
        env: cgiEnv(req, opts, user),
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      children.add(child.status);
      child.status.finally(() => children.delete(child.status));
      const feed = req.body
        ? req.body.pipeTo(child.stdin).catch(() => {})
        : child.stdin.close().catch(() => {});
      children.add(feed);
      feed.finally(() => children.delete(feed));
      return await cgiResponse(child.stdout);
    },
  );
  const port = server.addr.port;
  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    authorizations,
    async close() {
      await server.shutdown();
      await Promise.allSettled([...children]);
    },
  };
}
