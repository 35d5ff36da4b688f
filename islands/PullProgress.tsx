// The image pull form with a live progress bar. Without JS it is a plain form posted to the page,
// which waits for the pull and shows the result. With JS it posts to the API instead and reads
// the NDJSON progress stream: one row per layer, an overall bar with the bytes so far, and the
// error as the engine told it. Cancelling (or leaving the page) cancels the pull on the host.
import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";

/** Props of the pull form island. */
export interface PullProgressProps {
  /** API endpoint that streams the pull (`…/hosts/<id>/images/pull`). */
  pullUrl: string;
  /** Page endpoint the form posts to without JS. */
  formAction: string;
  host: string;
  /** Image list to go back to once pulled. */
  refreshHref: string;
  /** Kept input and server-side error of a no-JS submission. */
  value?: string;
  error?: string;
}

interface Layer {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

type Phase = "idle" | "pulling" | "done" | "error";

/** How far one layer is, 0..1: downloading is most of the work, extracting the rest. */
export function layerFraction(l: Layer): number {
  const part = l.total ? Math.min(1, (l.current ?? 0) / l.total) : 0;
  switch (l.status) {
    case "Pull complete":
    case "Already exists":
      return 1;
    case "Downloading":
      return 0.8 * part;
    case "Verifying Checksum":
    case "Download complete":
      return 0.8;
    case "Extracting":
      return 0.8 + 0.2 * part;
    default:
      return 0;
  }
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Pull form plus progress. */
export default function PullProgress(p: PullProgressProps) {
  const phase = useSignal<Phase>(p.error ? "error" : "idle");
  const message = useSignal(p.error ?? "");
  const status = useSignal("");
  const layers = useSignal<Layer[]>([]);
  const pulled = useSignal("");
  // The input's text lives here: re-renders during a pull must not reset what was typed.
  const text = useSignal(p.value ?? "");
  const abort = useRef<AbortController | null>(null);
  // Download bytes per layer, kept past the "Downloading" phase so the total does not shrink.
  const downloaded = useRef(new Map<string, { current: number; total: number }>());

  const apply = (
    e: { type: string; id?: string; status?: string; current?: number; total?: number },
  ) => {
    if (e.type !== "progress") return;
    if (!e.id) {
      status.value = e.status ?? "";
      return;
    }
    const next = layers.value.slice();
    const i = next.findIndex((l) => l.id === e.id);
    const layer = { id: e.id, status: e.status ?? "", current: e.current, total: e.total };
    if (i >= 0) next[i] = layer;
    else next.push(layer);
    layers.value = next;
    if (e.status === "Downloading" && e.total) {
      downloaded.current.set(e.id, { current: e.current ?? 0, total: e.total });
    } else if (e.status === "Download complete" || e.status === "Pull complete") {
      const d = downloaded.current.get(e.id);
      if (d) d.current = d.total;
    }
  };

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const ref = String(new FormData(form).get("ref") ?? "").trim();
    text.value = ref;
    abort.current?.abort();
    const ac = abort.current = new AbortController();
    phase.value = "pulling";
    message.value = "";
    status.value = "Starting…";
    layers.value = [];
    downloaded.current.clear();
    try {
      const res = await fetch(p.pullUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/x-ndjson" },
        body: JSON.stringify({ ref }),
        signal: ac.signal,
      });
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => null);
        const err = body?.error;
        throw new Error(
          err?.fields?.ref ? `Image ${err.fields.ref}` : err?.message ?? `HTTP ${res.status}`,
        );
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let last: { type: string; message?: string; ref?: string } | undefined;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const e = JSON.parse(line);
          last = e;
          apply(e);
        }
      }
      if (last?.type === "done") {
        phase.value = "done";
        pulled.value = last.ref ?? ref;
      } else {
        throw new Error(last?.type === "error" ? last.message : "The pull ended without a result");
      }
    } catch (err) {
      if (ac.signal.aborted) {
        phase.value = "idle";
        status.value = "";
        return;
      }
      phase.value = "error";
      message.value = err instanceof Error ? err.message : String(err);
    }
  };

  const ls = layers.value;
  const overall = ls.length ? ls.reduce((s, l) => s + layerFraction(l), 0) / ls.length : 0;
  let cur = 0;
  let total = 0;
  for (const d of downloaded.current.values()) {
    cur += d.current;
    total += d.total;
  }
  const busy = phase.value === "pulling";
  return (
    <div class="pull">
      <form method="post" action={p.formAction} class="form form-row pull-form" onSubmit={submit}>
        <input type="hidden" name="host" value={p.host} />
        <div class={phase.value === "error" ? "field has-error" : "field"}>
          <label for="pull-ref">Image to pull</label>
          <input
            id="pull-ref"
            name="ref"
            required
            placeholder="nginx:1.27"
            value={text.value}
            onInput={(e) => (text.value = (e.currentTarget as HTMLInputElement).value)}
            autocomplete="off"
            spellcheck={false}
            aria-invalid={phase.value === "error" ? "true" : undefined}
            aria-describedby={phase.value === "error" ? "pull-error" : "pull-hint"}
          />
          {phase.value === "error" && (
            <p class="field-error" id="pull-error" role="alert">{message.value}</p>
          )}
          <p class="hint" id="pull-hint">repository[:tag], from the registry the host can reach.</p>
        </div>
        <div class="form-submit">
          {busy
            ? (
              <button class="btn" type="button" onClick={() => abort.current?.abort()}>
                Cancel
              </button>
            )
            : <button class="btn btn-primary" type="submit">Pull</button>}
        </div>
      </form>
      {(busy || phase.value === "done" || (phase.value === "error" && ls.length > 0)) && (
        <div class="pull-progress" aria-live="polite">
          <div class="pull-overall">
            <progress max={100} value={phase.value === "done" ? 100 : Math.round(overall * 100)}>
              {Math.round(overall * 100)}%
            </progress>
            <span class="small">
              {phase.value === "done"
                ? (
                  <>
                    Pulled <code>{pulled.value}</code>. <a href={p.refreshHref}>Refresh the list</a>
                  </>
                )
                : (
                  <>
                    {Math.round(overall * 100)}%
                    {total > 0 && ` · ${bytes(cur)} of ${bytes(total)}`}
                    {status.value && <span class="muted">{` · ${status.value}`}</span>}
                  </>
                )}
            </span>
          </div>
          {ls.length > 0 && (
            <ul class="plain pull-layers">
              {ls.map((l) => (
                <li key={l.id}>
                  <code>{l.id}</code>
                  <progress max={100} value={Math.round(layerFraction(l) * 100)} />
                  <span class="small muted">
                    {l.status}
                    {l.total ? ` ${bytes(l.current ?? 0)} / ${bytes(l.total)}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
