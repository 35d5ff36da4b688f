/** Connection settings read from a PostgreSQL URL, in the shape postgres.js takes as options. */
export interface PgConnectOptions {
  /** A host name or address, or a directory holding the server's Unix socket. */
  host?: string;
  port?: number;
  user?: string;
  pass?: string;
  database?: string;
  /** From `sslmode`: false for `disable`, else the mode. */
  ssl?: SslMode | false;
  /** Other query parameters: sent to the server as run-time parameters (application_name, …). */
  connection: Record<string, string>;
}

/** libpq's `sslmode` values that postgres.js takes as they are. */
const SSL_MODES = ["allow", "prefer", "require", "verify-full"] as const;
type SslMode = (typeof SSL_MODES)[number];

/** libpq's spellings of the settings that may stand in the query instead of the URL's parts. */
const IN_QUERY = new Set(["host", "port", "user", "password", "dbname", "sslmode"]);

/**
 * Reads `postgres://user:pass@host:port/db?…` the way libpq does, including the forms postgres.js
 * alone gets wrong: a Unix-socket directory as `?host=/var/run/postgresql` (postgres.js would send
 * `host` to the server as a run-time parameter, which the server refuses) or as a percent-encoded
 * host (`postgres://%2Fvar%2Frun%2Fpostgresql/db`), and `user`, `password`, `dbname`, `port` given
 * in the query. Query values win over the URL's parts, as in libpq.
 */
export function parsePostgresUrl(url: string): PgConnectOptions {
  const u = new URL(url);
  const q = u.searchParams;
  const host = q.get("host") ?? (u.hostname ? decodeURIComponent(u.hostname) : undefined);
  const port = q.get("port") ?? u.port;
  const connection: Record<string, string> = {};
  for (const [k, v] of q) if (!IN_QUERY.has(k)) connection[k] = v;
  const out: PgConnectOptions = { connection };
  if (host) out.host = host;
  if (port) out.port = Number(port);
  const user = q.get("user") ?? decodeURIComponent(u.username);
  if (user) out.user = user;
  const pass = q.get("password") ?? decodeURIComponent(u.password);
  if (pass) out.pass = pass;
  const database = q.get("dbname") ?? decodeURIComponent(u.pathname.slice(1));
  if (database) out.database = database;
  const ssl = q.get("sslmode");
  if (ssl === "disable") out.ssl = false;
  else if (SSL_MODES.includes(ssl as SslMode)) out.ssl = ssl as SslMode;
  else if (ssl) throw new Error(`sslmode "${ssl}" is not one of disable, ${SSL_MODES.join(", ")}`);
  return out;
}

/** The URL with its password left out (for messages and logs), in the same libpq shape. */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    if (u.searchParams.has("password")) u.searchParams.delete("password");
    return u.href;
  } catch {
    return "(an unparsable DATABASE_URL)";
  }
}
