/**
 * A real DNS responder on a loopback UDP port for tests of the custom-domain DNS check. It answers
 * like a recursive resolver would from a table the test sets and changes while it runs: A, AAAA
 * and CNAME (a query for another type at a CNAME gets the chain followed within the table),
 * wildcard entries (`*.example.test`), NXDOMAIN for names it does not know, NODATA for a known
 * name without records of the asked type. It can be told to stop answering (a server that times
 * out) or to fail every query (SERVFAIL). Messages are encoded and decoded by `dns-packet`.
 */
import dgram from "node:dgram";
// @ts-types="@types/dns-packet"
import * as packet from "dns-packet";

/** The records of one name; a name with a CNAME has no other records (RFC 1034 §3.6.2). */
export interface TestDnsRecords {
  a?: string[];
  aaaa?: string[];
  cname?: string;
}

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, for `Resolver.setServers`. */
  server: string;
  /** Sets (replaces) the records of `name` (ASCII; may start with `*.`). */
  set(name: string, records: TestDnsRecords): void;
  /** Forgets `name`: it answers NXDOMAIN from now on. */
  remove(name: string): void;
  /** True: the server reads queries and never answers; a list of types: never answers those. */
  silent: boolean | string[];
  /** While true every answer is SERVFAIL (a server whose upstream is broken). */
  failing: boolean;
  /** Every question asked so far, in order. */
  queries: { name: string; type: string }[];
  close(): Promise<void>;
}

const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const MAX_CHAIN = 8;
const TTL = 1;

/** Starts a responder on a free loopback UDP port, answering from `table`. */
export async function startDnsServer(
  table: Record<string, TestDnsRecords> = {},
): Promise<TestDnsServer> {
  const records = new Map<string, TestDnsRecords>();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, "");
  for (const [name, r] of Object.entries(table)) records.set(key(name), r);

  /** The exact entry, else the wildcard entry of the nearest parent that has one. */
  const lookup = (name: string): TestDnsRecords | undefined => {
    const exact = records.get(name);
    if (exact) return exact;
    const labels = name.split(".");
    for (let i = 1; i < labels.length; i++) {
      const wild = records.get(`*.${labels.slice(i).join(".")}`);
      if (wild) return wild;
    }
    return undefined;
  };

  const answer = (question: packet.Question) => {
    const answers: packet.Answer[] = [];
    let name = key(question.name);
    for (let step = 0; step <= MAX_CHAIN; step++) {
      const r = lookup(name);
      if (!r) return { rcode: NXDOMAIN, answers };
      if (r.cname) {
        answers.push({ type: "CNAME", name, ttl: TTL, data: r.cname });
        if (question.type === "CNAME") break;
        name = key(r.cname);
        continue;
      }
      if (question.type === "A") {
        for (const data of r.a ?? []) answers.push({ type: "A", name, ttl: TTL, data });
      } else if (question.type === "AAAA") {
        for (const data of r.aaaa ?? []) answers.push({ type: "AAAA", name, ttl: TTL, data });
      }
      break;
    }
    return { rcode: NOERROR, answers };
  };

  const socket = dgram.createSocket("udp4");
  const server: TestDnsServer = {
    server: "",
    set: (name, r) => void records.set(key(name), r),
    remove: (name) => void records.delete(key(name)),
    silent: false,
    failing: false,
    queries: [],
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (message, from) => {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return; // not DNS: a real server drops it too
    }
    const question = query.questions?.[0];
    if (!question) return;
    server.queries.push({ name: key(question.name), type: question.type });
    const silent = server.silent;
    if (silent === true || (Array.isArray(silent) && silent.includes(question.type))) return;
    const { rcode, answers } = server.failing ? { rcode: SERVFAIL, answers: [] } : answer(question);
    const reply = packet.encode({
      type: "response",
      id: query.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | rcode,
      questions: [question],
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  server.server = `127.0.0.1:${socket.address().port}`;
  return server;
}
