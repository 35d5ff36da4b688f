/**
 * The small value languages of Compose files: durations (`1m30s`), byte sizes (`512M`), the
 * short port syntax (`127.0.0.1:8080:80/udp`), the short volume syntax (`data:/var/lib:ro`) and
 * string commands, which Compose splits into arguments like a shell would but never runs a
 * shell for. Each parser throws a ValueError with a sentence to show next to the line.
 */

/** A value that is not written in the language it should be. */
export class ValueError extends Error {
  constructor(message: string, readonly kind: "invalid" | "unsupported" = "invalid") {
    super(message);
  }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds of a Go duration as Compose writes them: `10s`, `1m30s`, `1.5s`, `500ms`. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== s.length) {
    throw new ValueError(`"${text}" is not a duration like 10s or 1m30s`);
  }
  // Milliseconds are as fine as Swarm's settings need; this drops float noise (0.1+0.2).
  return Math.round(total * 1000) / 1000;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/** Bytes of a Compose size (`512m`, `1G`, `1.5gb`, `2GiB`, or a plain number of bytes). */
export function parseBytes(value: string | number): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0) return value;
    throw new ValueError(`${value} is not a number of bytes`);
  }
  const m = /^(\d+(?:\.\d+)?)\s?([kmgt]?)i?b?$/i.exec(value.trim());
  if (!m) throw new ValueError(`"${value}" is not a size like 512M or 1G`);
  return Math.round(Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()]);
}

/** A port as the short syntax writes it. */
export interface ShortPort {
  target: number;
  published?: number;
  protocol: "tcp" | "udp";
  hostIp?: string;
}

/** `80`, `8080:80`, `127.0.0.1:8080:80/udp`, `[::1]:8080:80`; ranges are refused. */
export function parseShortPort(text: string): ShortPort {
  let rest = text.trim();
  let protocol: "tcp" | "udp" = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const proto = rest.slice(slash + 1);
    if (proto !== "tcp" && proto !== "udp") {
      throw new ValueError(`protocol ${proto} is not supported (tcp or udp)`, "unsupported");
    }
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]:");
    if (close < 0) throw new ValueError(`"${text}" is not a port mapping`);
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(":");
  if (parts.length > 3 || (hostIp !== undefined && parts.length !== 2)) {
    throw new ValueError(`"${text}" is not a port mapping like 8080:80`);
  }
  if (parts.length === 3) hostIp = parts.shift();
  if (parts.some((p) => p.includes("-"))) {
    throw new ValueError(
      `port ranges are not supported: list each port (${text})`,
      "unsupported",
    );
  }
  const target = portNumber(parts[parts.length - 1], text);
  const published = parts.length === 2 && parts[0] !== "" ? portNumber(parts[0], text) : undefined;
  return {
    target,
    ...(published !== undefined ? { published } : {}),
    protocol,
    ...(hostIp ? { hostIp } : {}),
  };
}

/** A port number 1–65535 written as text. */
export function portNumber(text: string, whole = text): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new ValueError(`"${whole}" is not a port mapping: ports are numbers 1–65535`);
  }
  return Number(text);
}

/** Whether a host address means "every address", which is all Swarm can publish on. */
export function isAnyAddress(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::";
}

/** A volume as the short syntax writes it. */
export interface ShortVolume {
  /** A volume name, a host path (absolute or relative), or absent for an anonymous volume. */
  source?: string;
  target: string;
  options: string[];
}

/** `data:/var/lib/mysql`, `./conf:/etc/nginx:ro`, `/var/lib/data` (anonymous). */
export function parseShortVolume(text: string): ShortVolume {
  const parts = text.split(":");
  // A Windows drive letter (`C:\data:/data`) is not something a Linux Swarm can mount.
  if (parts.length === 1) return { target: parts[0], options: [] };
  if (parts.length === 2 && parts[0].startsWith("/") && !parts[1].startsWith("/")) {
    // `/data:ro` is an anonymous volume with options.
    return { target: parts[0], options: parts[1].split(",") };
  }
  if (parts.length === 2) return { source: parts[0], target: parts[1], options: [] };
  if (parts.length === 3) {
    return { source: parts[0], target: parts[1], options: parts[2].split(",") };
  }
  throw new ValueError(`"${text}" is not a volume like name:/path or name:/path:ro`);
}

/** Whether a volume source is a host path rather than a volume name. */
export function isHostPath(source: string): boolean {
  return /^[./~]/.test(source);
}

/** Characters a shell would have acted on, which an argument list passes as they are. */
const SHELL_ONLY = /[|&;<>()`$*?]/;

/**
 * The arguments of a string command, split as Compose splits it (quotes and backslashes, no
 * shell). A shell operator outside quotes (`&&`, `|`, `>`, `$HOME`, a glob) would reach the
 * program as a literal argument, which is never what was meant: that is refused, with the list
 * form (or an explicit `["sh", "-c", "…"]`) as the way to say it.
 */
export function splitCommand(text: string): string[] {
  const args: string[] = [];
  let current = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) args.push(current);
      current = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ValueError("a single quote is not closed");
      current += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && /["\\$`]/.test(text[j + 1] ?? "")) j++;
        current += text[j];
      }
      if (j >= text.length) throw new ValueError("a double quote is not closed");
      i = j;
    } else if (c === "\\") {
      if (i + 1 < text.length) current += text[++i];
    } else if (
      SHELL_ONLY.test(c) || (c === "#" && current === "") || (c === "~" && current === "")
    ) {
      throw new ValueError(
        `"${c}" outside quotes needs a shell, and Compose runs none: write the command as a list, ` +
          `e.g. ["sh", "-c", "…"] if a shell is meant`,
      );
    } else {
      current += c;
    }
  }
  if (inWord) args.push(current);
  return args;
}
