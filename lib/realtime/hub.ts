/**
 * The realtime hub: browsers subscribe to topics over one WebSocket each; events published on the
 * bus (from this or any replica) fan out to the local clients subscribed to that topic.
 *
 * Client protocol, JSON text frames:
 *   → {"type":"subscribe","topic":"org:<orgId>:<name>"}   ← {"type":"subscribed","topic"}
 *   → {"type":"unsubscribe","topic"}                       ← {"type":"unsubscribed","topic"}
 *   → {"type":"ping","id"?}                                ← {"type":"pong","id"?}
 *   ← {"type":"event","topic","data"}
 *   ← {"type":"error","code":"forbidden"|"bad_request","message","topic"?}
 *
 * Close codes the hub uses: 1001 hub shutting down, 1003 binary frame, 1008 too many requests in
 * flight, 1009 message over the size cap, 1013 send queue overflow (see client_queue.ts), 4401 the
 * credential is gone (signed out, session ended by a password change, token revoked or expired),
 * 4403 a subscribed topic may no longer be read (membership removed, role lowered).
 *
 * A socket must not outlive its credential. Whoever changes a user's access publishes on
 * `accessTopic(userId)` (see `publishAccessChanged`); every replica's hub then re-checks that user's
 * sockets at once. A periodic sweep re-checks every socket too, for expiry and for news the bus lost.
 */
import type { Principal } from "../auth/principal.ts";
import type { Bus } from "./bus.ts";
import { isValidTopic, parseTopic } from "./topics.ts";
import {
  type ClientQueue,
  type ClientQueueOptions,
  createClientQueue,
  OVERFLOW_CLOSE,
  type QueueSocket,
} from "./client_queue.ts";

/** The socket a hub client talks through; Deno's `WebSocket` satisfies it as is. */
export type RealtimeSocket = QueueSocket;

/** Who may read a topic; checked when the client subscribes and whenever its access is re-checked. */
export type CanRead = (principal: Principal, topic: string) => Promise<boolean> | boolean;

/** Whether a principal's credential still holds: null when it does, else the close code (4401, 4403). */
export type CheckCredential = (principal: Principal) => Promise<number | null>;

/** Close code for a socket whose credential is gone (signed out, revoked, expired). */
export const CREDENTIAL_GONE = 4401;
/** Close code for a socket that may no longer read a topic it subscribed to. */
export const ACCESS_GONE = 4403;

/** The bus topic on which "this user's access changed" reaches every replica's hub. */
export function accessTopic(userId: string): string {
  return `user:${userId}:access`;
}

/** Tells every replica to re-check `userId`'s sockets; best effort (the sweep is the backstop). */
export function publishAccessChanged(bus: Bus, userId: string): void {
  bus.publish(accessTopic(userId), { at: Date.now() }).catch(() => {});
}

/** Options of `createRealtimeHub`; only `bus` and `canRead` are required. */
export interface RealtimeHubOptions {
  bus: Bus;
  canRead: CanRead;
  /** Per-client send queue bounds (see `createClientQueue`). */
  queue?: Omit<ClientQueueOptions, "onOverflow">;
  /** Default 64. */
  maxSubscriptionsPerClient?: number;
  /**
   * Largest accepted client message in UTF-8 bytes; bigger closes with 1009. Default 4096. Checked
   * after the runtime has read the frame (`Deno.upgradeWebSocket` has no size option), so it bounds
   * the work and memory the hub spends per message, not what the socket reads.
   */
  maxMessageBytes?: number;
  /** Client messages waiting behind a slow `canRead` before the client is closed with 1008. Default 32. */
  maxPendingMessages?: number;
  /** Told whenever a client leaves, with the code the hub closed it with or the peer's close code. */
  onClientClosed?: (info: { principal: Principal; code: number; reason: string }) => void;
  /** Where unexpected failures (a throwing `canRead`) are reported. */
  onError?: (error: unknown) => void;
  /** Re-checks a socket's credential; without it sockets are only checked when they subscribe. */
  checkCredential?: CheckCredential;
  /** How often every socket is re-checked (with `checkCredential`). Default 30 s. */
  recheckEveryMs?: number;
}

/** What `hub.connect` returns: feed it the socket's messages and its close. */
export interface RealtimeClient {
  readonly id: string;
  /** A frame from the client; anything but a string (a binary frame) closes with 1003. */
  onMessage(data: unknown): void;
  /** The socket closed; safe to call more than once. */
  onClose(code?: number, reason?: string): void;
}

/** Counts for monitoring: connected clients and the sum of their subscriptions. */
export interface RealtimeStats {
  clients: number;
  subscriptions: number;
}

/** The hub of one process. */
export interface RealtimeHub {
  /** Attaches an open socket for `principal`. */
  connect(socket: RealtimeSocket, principal: Principal): RealtimeClient;
  /** Publishes through the bus, so clients on every replica see it; rejects on an invalid topic. */
  publish(topic: string, data: unknown): Promise<void>;
  stats(): RealtimeStats;
  /** Re-checks the sockets of `userId` (all sockets when omitted) and closes those that lost access. */
  recheck(userId?: string): Promise<void>;
  /** Closes every client with 1001 and stops listening to the bus (the bus itself stays open). */
  close(): Promise<void>;
}

const ACCESS_NAME = "access";

interface Client {
  id: string;
  socket: RealtimeSocket;
  principal: Principal;
  queue: ClientQueue;
  topics: Set<string>;
  inbox: string[];
  working: boolean;
  gone: boolean;
}

const encoder = new TextEncoder();

function utf8Length(text: string, limit: number): number {
  // Every UTF-16 unit is at least one UTF-8 byte and at most three, so most texts need no encoding.
  if (text.length > limit || text.length * 3 <= limit) return text.length;
  return encoder.encode(text).length;
}

/** Creates the hub; it subscribes to `bus` once and fans events out to local subscribers. */
export function createRealtimeHub(options: RealtimeHubOptions): RealtimeHub {
  const maxSubscriptions = options.maxSubscriptionsPerClient ?? 64;
  const maxMessageBytes = options.maxMessageBytes ?? 4096;
  const maxPending = options.maxPendingMessages ?? 32;
  const onError = options.onError ?? ((error) => console.error("realtime hub:", error));
  const clients = new Set<Client>();
  const byTopic = new Map<string, Set<Client>>();
  let closed = false;

  const byUser = new Map<string, Set<Client>>();
  const recheckEveryMs = options.recheckEveryMs ?? 30_000;
  let sweep: ReturnType<typeof setInterval> | undefined;

  const unsubscribeBus = options.bus.subscribe((topic, _data, json) => {
    const t = parseTopic(topic);
    if (t?.scope === "user" && t.name === ACCESS_NAME) return void recheckUser(t.id);
    const subscribers = byTopic.get(topic);
    if (!subscribers) return;
    // One frame per event, not one per client, around the data's text as it was published: the
    // payload is encoded once, by its publisher, whichever bus and however many clients.
    const frame = `{"type":"event","topic":${JSON.stringify(topic)},"data":${json}}`;
    for (const client of [...subscribers]) client.queue.send(frame);
  });

  function reply(client: Client, message: Record<string, unknown>) {
    if (!client.gone) client.queue.send(JSON.stringify(message));
  }

  function fail(
    client: Client,
    code: "forbidden" | "bad_request",
    message: string,
    topic?: unknown,
  ) {
    reply(client, {
      type: "error",
      code,
      message,
      ...(typeof topic === "string" ? { topic } : {}),
    });
  }

  // Forgets the client; `closeWith` also closes its socket (when the hub, not the peer, ends it).
  function drop(client: Client, code: number, reason: string, closeWith: boolean) {
    if (client.gone) return;
    client.gone = true;
    client.queue.dispose();
    client.inbox.length = 0;
    for (const topic of client.topics) removeSubscriber(topic, client);
    client.topics.clear();
    clients.delete(client);
    const mine = byUser.get(client.principal.userId);
    mine?.delete(client);
    if (mine?.size === 0) byUser.delete(client.principal.userId);
    if (clients.size === 0 && sweep !== undefined) {
      clearInterval(sweep);
      sweep = undefined;
    }
    if (closeWith) {
      try {
        client.socket.close(code, reason);
      } catch {
        // Already closing.
      }
    }
    try {
      options.onClientClosed?.({ principal: client.principal, code, reason });
    } catch (error) {
      onError(error);
    }
  }

  // Closes the client if its credential is gone (4401) or it may no longer read one of its topics
  // (4403). A check that throws (the database is away) keeps the socket: the next sweep retries.
  async function recheckClient(client: Client): Promise<void> {
    const check = options.checkCredential;
    if (client.gone || !check) return;
    try {
      const code = await check(client.principal);
      if (client.gone) return;
      if (code !== null) return drop(client, code, "access revoked", true);
      for (const topic of [...client.topics]) {
        const allowed = (await options.canRead(client.principal, topic)) === true;
        if (client.gone) return;
        if (!allowed) return drop(client, ACCESS_GONE, `may no longer read ${topic}`, true);
      }
    } catch (error) {
      onError(error);
    }
  }

  async function recheckUser(userId: string): Promise<void> {
    await Promise.all([...byUser.get(userId) ?? []].map(recheckClient));
  }

  async function recheckAll(): Promise<void> {
    await Promise.all([...clients].map(recheckClient));
  }

  function removeSubscriber(topic: string, client: Client) {
    const set = byTopic.get(topic);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) byTopic.delete(topic);
  }

  async function handle(client: Client, text: string) {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return fail(client, "bad_request", "Message is not valid JSON");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      return fail(client, "bad_request", "Message must be a JSON object");
    }
    const { type, topic, id } = message as Record<string, unknown>;
    switch (type) {
      case "ping": {
        const echo = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
        return reply(client, echo ? { type: "pong", id } : { type: "pong" });
      }
      case "subscribe": {
        if (!isValidTopic(topic)) return fail(client, "bad_request", "Invalid topic", topic);
        if (parseTopic(topic)?.name === ACCESS_NAME) {
          return fail(client, "forbidden", `Cannot subscribe to "${topic}": it is internal`, topic);
        }
        if (client.topics.has(topic)) return reply(client, { type: "subscribed", topic });
        if (client.topics.size >= maxSubscriptions) {
          return fail(
            client,
            "bad_request",
            `Cannot subscribe to "${topic}": at most ${maxSubscriptions} subscriptions per connection`,
            topic,
          );
        }
        let allowed = false;
        try {
          allowed = (await options.canRead(client.principal, topic)) === true;
        } catch (error) {
          // Fail closed: a broken permission check must not open a topic.
          onError(error);
        }
        if (client.gone) return;
        if (!allowed) {
          return fail(client, "forbidden", `Cannot subscribe to "${topic}": not allowed`, topic);
        }
        client.topics.add(topic);
        let set = byTopic.get(topic);
        if (!set) byTopic.set(topic, set = new Set());
        set.add(client);
        return reply(client, { type: "subscribed", topic });
      }
      case "unsubscribe": {
        if (!isValidTopic(topic)) return fail(client, "bad_request", "Invalid topic", topic);
        client.topics.delete(topic);
        removeSubscriber(topic, client);
        return reply(client, { type: "unsubscribed", topic });
      }
      default:
        return fail(client, "bad_request", "Unknown message type");
    }
  }

  // Messages of one client are handled one at a time, so replies come in request order even when
  // `canRead` is asynchronous, and a subscribe cannot race the subscription cap.
  async function work(client: Client) {
    if (client.working) return;
    client.working = true;
    try {
      while (client.inbox.length > 0 && !client.gone) {
        try {
          await handle(client, client.inbox.shift()!);
        } catch (error) {
          onError(error);
        }
      }
    } finally {
      client.working = false;
    }
  }

  return {
    connect(socket, principal) {
      const client: Client = {
        id: crypto.randomUUID(),
        socket,
        principal,
        queue: createClientQueue(socket, {
          ...options.queue,
          // The queue has already closed the socket; the peer may never answer the close handshake
          // (it is not reading), so the hub forgets the client now instead of waiting for onclose.
          onOverflow: () => drop(client, OVERFLOW_CLOSE.code, OVERFLOW_CLOSE.reason, false),
        }),
        topics: new Set(),
        inbox: [],
        working: false,
        gone: false,
      };
      if (closed) {
        drop(client, 1001, "server shutting down", true);
      } else {
        clients.add(client);
        let mine = byUser.get(principal.userId);
        if (!mine) byUser.set(principal.userId, mine = new Set());
        mine.add(client);
        // The sweep runs only while someone is connected, so an idle hub holds no timer.
        if (options.checkCredential && sweep === undefined) {
          sweep = setInterval(() => void recheckAll(), recheckEveryMs);
        }
      }
      return {
        id: client.id,
        onMessage(data) {
          if (client.gone) return;
          if (typeof data !== "string") return drop(client, 1003, "text frames only", true);
          if (utf8Length(data, maxMessageBytes) > maxMessageBytes) {
            return drop(client, 1009, `message over ${maxMessageBytes} bytes`, true);
          }
          if (client.inbox.length >= maxPending) {
            return drop(client, 1008, "too many requests in flight", true);
          }
          client.inbox.push(data);
          void work(client);
        },
        onClose(code = 1005, reason = "") {
          drop(client, code, reason, false);
        },
      };
    },
    publish(topic, data) {
      if (!isValidTopic(topic)) {
        return Promise.reject(new Error(`Cannot publish to "${topic}": invalid topic`));
      }
      return options.bus.publish(topic, data);
    },
    stats() {
      let subscriptions = 0;
      for (const client of clients) subscriptions += client.topics.size;
      return { clients: clients.size, subscriptions };
    },
    recheck(userId) {
      return userId === undefined ? recheckAll() : recheckUser(userId);
    },
    close() {
      if (!closed) {
        closed = true;
        if (sweep !== undefined) clearInterval(sweep);
        sweep = undefined;
        unsubscribeBus();
        for (const client of [...clients]) drop(client, 1001, "server shutting down", true);
      }
      return Promise.resolve();
    },
  };
}

/** Connects a Deno `WebSocket` (from `Deno.upgradeWebSocket`) to the hub once it opens. */
export function attachWebSocket(hub: RealtimeHub, ws: WebSocket, principal: Principal): void {
  const start = () => {
    const client = hub.connect(ws, principal);
    ws.onmessage = (event) => client.onMessage(event.data);
    ws.onclose = (event) => client.onClose(event.code, event.reason);
  };
  // An error is always followed by a close event, which is where the client is dropped.
  ws.addEventListener("error", () => {});
  // Waiting for open keeps sockets that never complete the handshake out of the client count.
  if (ws.readyState === WebSocket.OPEN) start();
  else ws.addEventListener("open", start, { once: true });
}
