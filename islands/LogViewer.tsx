// Terminal-style live log viewer. The last N lines and then new ones arrive over Server-Sent
// Events (EventSource carries the session cookie and reconnects by itself). Lines are appended to
// the DOM directly rather than re-rendered by Preact: a chatty container adds many lines a second
// and only the new ones should cost anything. At most MAX_LINES are kept, in memory and in the DOM.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { Component, type RefObject } from "preact";

export interface LogViewerProps {
  /** `…/containers/{id}/logs/stream`, or an app service's `…/services/{service}/logs/stream` */
  streamUrl: string;
  /** `…/containers/{id}/logs` (download); without it no download links are offered. */
  downloadUrl?: string;
  /** Lines to start with. */
  tail?: number;
  /** What the log is of, for screen readers ("Container log" by default). */
  label?: string;
}

/** Lines kept; older ones are dropped from the top. */
export const MAX_LINES = 5000;
const TAILS = [100, 500, 1000, 5000];

/** A line; a service's lines also name the task and node that wrote them. */
type Line = {
  stream: "stdout" | "stderr";
  line: string;
  ts?: string;
  task?: string;
  node?: string;
};
type Entry = (Line & { kind: "line" } | { kind: "note"; text: string }) & { el?: HTMLElement };
type Status = "off" | "connecting" | "live" | "reconnecting" | "ended";

const STATUS_TEXT: Record<Status, string> = {
  off: "",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost; reconnecting…",
  ended: "Stream ended",
};

/** `2026-01-31T14:05:06.123456789Z` → `2026-01-31 14:05:06.123` (UTC, like the rest of the UI). */
function shortTs(ts: string): string {
  return ts.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace(/Z$/, "");
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

/** The DOM node of an entry, made once. textContent only: log text is never parsed as HTML. */
function nodeOf(e: Entry): HTMLElement {
  if (e.el) return e.el;
  const div = document.createElement("div");
  if (e.kind === "note") {
    div.className = "log-note";
    div.textContent = e.text;
  } else {
    div.className = e.stream === "stderr" ? "log-line log-err" : "log-line";
    if (e.ts) {
      // The date is its own span so narrow screens can show the time alone.
      const [date, time] = shortTs(e.ts).split(" ");
      const ts = span("log-ts", "");
      ts.append(span("log-date", `${date} `), time ?? "");
      div.append(ts);
    }
    if (e.task) div.append(span("log-src", e.node ? `${e.task}@${e.node}` : e.task));
    div.append(span("log-mk", e.stream === "stderr" ? "ERR" : ""));
    div.append(span("log-tx", e.line));
  }
  return e.el = div;
}

/** The scrolling box; rendered once, then filled by hand (Preact never re-renders it). */
class LogBody extends Component<
  { bodyRef: RefObject<HTMLDivElement>; onScroll: () => void; label: string }
> {
  override shouldComponentUpdate(): boolean {
    return false;
  }

  override render() {
    return (
      <div
        class="log-body"
        ref={this.props.bodyRef}
        onScroll={this.props.onScroll}
        role="log"
        aria-live="off"
        aria-label={this.props.label}
        tabIndex={0}
      />
    );
  }
}

/** Live log viewer with tail size, timestamps, filter, pause/resume and downloads. */
export default function LogViewer(
  { streamUrl, downloadUrl, tail: initialTail, label = "Container log" }: LogViewerProps,
) {
  const tail = useSignal(TAILS.includes(initialTail ?? 0) ? initialTail! : 500);
  const showTs = useSignal(false);
  const filter = useSignal("");
  const paused = useSignal<"no" | "user" | "scroll">("no");
  const status = useSignal<Status>("off");
  const message = useSignal("");
  const total = useSignal(0);
  const shown = useSignal(0);
  const reconnects = useSignal(0);
  const bodyRef = useRef<HTMLDivElement>(null);
  const entries = useRef<Entry[]>([]);
  // scrollTop we set ourselves, so our own scrolling is not taken for the user's.
  const ownScroll = useRef(-1);

  const matches = (e: Entry) => {
    const f = filter.peek().trim().toLowerCase();
    return !f || e.kind === "note" || e.line.toLowerCase().includes(f);
  };
  const scrollTo = (top: number) => {
    const el = bodyRef.current!;
    el.scrollTop = top;
    ownScroll.current = el.scrollTop;
  };
  const countShown = () => {
    shown.value = bodyRef.current?.querySelectorAll(".log-line").length ?? 0;
    total.value = entries.current.filter((e) => e.kind === "line").length;
  };

  const append = (add: Entry[]) => {
    const el = bodyRef.current;
    if (!el || !add.length) return;
    // A user scroll that has not fired its event yet (it comes a frame later) still pauses.
    if (
      paused.peek() === "no" && Math.abs(el.scrollTop - ownScroll.current) >= 2 &&
      el.scrollHeight - el.scrollTop - el.clientHeight >= 24
    ) paused.value = "scroll";
    const list = entries.current;
    list.push(...add);
    const frag = document.createDocumentFragment();
    for (const e of add) if (matches(e)) frag.append(nodeOf(e));
    el.append(frag);
    if (list.length > MAX_LINES) {
      const gone = list.splice(0, list.length - MAX_LINES).map((e) => e.el).filter((n) =>
        n?.isConnected
      ) as HTMLElement[];
      // Heights first, then removal: one layout, not one per line.
      const height = gone.reduce((h, n) => h + n.offsetHeight, 0);
      for (const n of gone) n.remove();
      // Lines fell off the top while the reader looks further up: keep their view still.
      if (paused.peek() !== "no" && height) scrollTo(Math.max(0, el.scrollTop - height));
    }
    if (paused.peek() === "no") scrollTo(el.scrollHeight);
    countShown();
  };

  const reset = () => {
    entries.current = [];
    bodyRef.current?.replaceChildren();
    countShown();
  };

  const refilter = () => {
    const el = bodyRef.current;
    if (!el) return;
    el.replaceChildren(...entries.current.filter(matches).map(nodeOf));
    if (paused.peek() === "no") scrollTo(el.scrollHeight);
    countShown();
  };

  const onScroll = () => {
    const el = bodyRef.current!;
    if (Math.abs(el.scrollTop - ownScroll.current) < 2) return;
    ownScroll.current = -1;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (!atBottom && paused.peek() === "no") paused.value = "scroll";
    else if (atBottom && paused.peek() === "scroll") paused.value = "no";
  };

  useEffect(() => {
    let es: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const lines = (data: string): Entry[] =>
      (JSON.parse(data) as Line[]).map((l) => ({ kind: "line", ...l }));
    const retry = () => {
      es?.close();
      status.value = "reconnecting";
      // Back off up to 30 s so a restarting hub is not hammered by every open tab.
      timer = setTimeout(connect, Math.min(30_000, 1000 * 2 ** attempt++));
    };
    const connect = () => {
      status.value = attempt === 0 ? "connecting" : "reconnecting";
      message.value = "";
      const url = `${streamUrl}?tail=${tail.peek()}&timestamps=1`;
      const source = es = new EventSource(url);
      // A tail starts every (re)connection and replaces what is shown: no duplicates.
      source.addEventListener("tail", (e) => {
        reset();
        append(lines((e as MessageEvent).data));
        status.value = "live";
        attempt = 0;
      });
      source.addEventListener("lines", (e) => append(lines((e as MessageEvent).data)));
      source.addEventListener("dropped", (e) => {
        const { count } = JSON.parse((e as MessageEvent).data) as { count: number };
        append([{ kind: "note", text: `… ${count} lines dropped: the agent fell behind …` }]);
      });
      source.addEventListener("end", (e) => {
        const r = JSON.parse((e as MessageEvent).data) as { code: string; reason: string };
        source.close();
        if (r.code === "ended" || r.code === "not_found") {
          status.value = "ended";
          message.value = r.reason;
        } else {
          append([{ kind: "note", text: `… ${r.reason}; reconnecting …` }]);
          retry();
        }
      });
      source.onerror = () => {
        // CONNECTING: the browser retries by itself; CLOSED (an HTTP error): we retry, slower.
        if (source.readyState === EventSource.CLOSED) retry();
        else status.value = "reconnecting";
      };
    };
    connect();
    return () => {
      clearTimeout(timer);
      es?.close();
    };
  }, [streamUrl, tail.value, reconnects.value]);

  // The filter applies as the user types, at most every 150 ms.
  const filterTimer = useRef<ReturnType<typeof setTimeout>>();
  const onFilter = (value: string) => {
    filter.value = value;
    clearTimeout(filterTimer.current);
    filterTimer.current = setTimeout(refilter, 150);
  };

  const togglePause = () => {
    if (paused.value === "no") paused.value = "user";
    else {
      paused.value = "no";
      const el = bodyRef.current;
      if (el) scrollTo(el.scrollHeight);
    }
  };

  const st = status.value;
  const isPaused = paused.value !== "no";
  const dl = (format: string) => `${downloadUrl}?tail=${tail.value}&format=${format}`;
  return (
    <section class="log-viewer" aria-label="Logs">
      <div class="log-toolbar">
        <label class="log-field">
          <span>Lines</span>
          <select
            value={String(tail.value)}
            onChange={(e) => (tail.value = Number((e.target as HTMLSelectElement).value))}
          >
            {TAILS.map((n) => <option key={n} value={String(n)}>{n}</option>)}
          </select>
        </label>
        <label class="log-field log-filter">
          <span class="visually-hidden">Filter lines</span>
          <input
            type="search"
            placeholder="Filter lines"
            value={filter.value}
            onInput={(e) => onFilter((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="log-check">
          <input
            type="checkbox"
            checked={showTs.value}
            onChange={(e) => (showTs.value = (e.target as HTMLInputElement).checked)}
          />
          Timestamps
        </label>
        <button type="button" class="btn btn-small" onClick={togglePause} aria-pressed={isPaused}>
          {isPaused ? "Resume" : "Pause"}
        </button>
        {downloadUrl && (
          <span class="log-downloads">
            <a class="btn btn-small btn-ghost" href={dl("txt")} download>.txt</a>
            <a class="btn btn-small btn-ghost" href={dl("json")} download>.json</a>
          </span>
        )}
      </div>
      <div class={`log-frame${showTs.value ? " show-ts" : ""}`}>
        <LogBody bodyRef={bodyRef} onScroll={onScroll} label={label} />
        {isPaused && st === "live" && (
          <button type="button" class="log-resume" onClick={togglePause}>
            Paused — resume following
          </button>
        )}
      </div>
      <div class="log-status" data-state={st} hidden={st === "off"}>
        <span class="live-dot" aria-hidden="true" />
        <span aria-live="polite">{STATUS_TEXT[st]}{message.value ? `: ${message.value}` : ""}</span>
        {st === "ended" && (
          <button
            type="button"
            class="btn btn-small btn-ghost"
            onClick={() => reconnects.value++}
          >
            Reconnect
          </button>
        )}
        <span class="log-count">
          {filter.value.trim()
            ? `${shown.value} of ${total.value} lines match`
            : `${total.value} ${total.value === 1 ? "line" : "lines"}`}
          {total.value >= MAX_LINES ? ` (newest ${MAX_LINES} kept)` : ""}
        </span>
      </div>
    </section>
  );
}
