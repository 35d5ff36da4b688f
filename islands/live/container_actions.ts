// Progress for slow container actions (a stop waits for the grace period, a restart for stop and
// start): a submit of a row's lifecycle form is sent to the API instead, the row's buttons are
// disabled and its badge says "stopping…" at once, and the outcome replaces it when the engine is
// done. Without this module the same forms post to the page, which answers when the action ends.

/** The words a badge shows while an action runs. */
const PENDING: Record<string, string> = {
  start: "starting…",
  stop: "stopping…",
  restart: "restarting…",
};

/** How a row is drawn: its badge and buttons follow the state; errors get a line of their own. */
export interface RowView {
  /** Shows `state` (or a pending label in `tone`) on the row of container `id`. */
  setBadge(id: string, text: string, tone: string): void;
  /** The row's state, which decides the buttons it shows. */
  setState(id: string, state: string): void;
}

/** Reads the error message of a JSON API answer, or describes the status. */
async function errorText(res: Response): Promise<string> {
  try {
    const body = await res.json() as { error?: { message?: string } };
    if (body?.error?.message) return body.error.message;
  } catch {
    // Not JSON: the status says enough.
  }
  return `the hub answered ${res.status}`;
}

/**
 * Listens for submits of `form > button[data-api]` inside rows marked `data-container-row`;
 * returns a function that stops listening. `pending` holds the ids with an action in flight, so
 * live events for them wait for the outcome instead of flickering through intermediate states.
 */
export function watchContainerActions(
  view: RowView,
  pending: Set<string>,
  tone: (state: string) => string,
): () => void {
  const onSubmit = (ev: SubmitEvent) => {
    const form = ev.target as HTMLFormElement | null;
    const button = (ev.submitter ?? form?.querySelector("button[data-api]")) as
      | HTMLButtonElement
      | null;
    const row = form?.closest<HTMLElement>("tr[data-container-row]");
    const api = button?.dataset.api;
    const action = button?.dataset.action;
    const id = row?.dataset.containerRow;
    if (!row || !api || !action || !id || pending.has(id)) return;
    ev.preventDefault();
    void run(row, id, api, action);
  };

  async function run(row: HTMLElement, id: string, api: string, action: string) {
    const before = row.dataset.state ?? "";
    const buttons = [...row.querySelectorAll<HTMLButtonElement>(".row-actions button")];
    row.querySelector(".row-error")?.remove();
    pending.add(id);
    row.setAttribute("aria-busy", "true");
    for (const b of buttons) b.disabled = true;
    view.setBadge(id, PENDING[action] ?? `${action}…`, "warn");
    let state = before;
    let error: string | null = null;
    try {
      const res = await fetch(api, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: "{}",
      });
      if (!res.ok) error = await errorText(res);
      // The outcome as the engine has it now (an event may still be on its way to this page).
      const inspect = await fetch(api.slice(0, api.lastIndexOf("/")), {
        headers: { accept: "application/json" },
      });
      if (inspect.ok) {
        const body = await inspect.json() as { State?: { Status?: string } };
        state = body.State?.Status ?? state;
      }
    } catch {
      error ??= "the hub could not be reached";
    }
    pending.delete(id);
    row.removeAttribute("aria-busy");
    for (const b of buttons) b.disabled = false;
    view.setState(id, state);
    view.setBadge(id, state, tone(state));
    if (error) {
      const p = document.createElement("p");
      p.className = "row-error";
      p.setAttribute("role", "alert");
      p.textContent = `Could not ${action}: ${error}`;
      row.querySelector(".actions-cell")?.append(p);
    }
  }

  document.addEventListener("submit", onSubmit);
  return () => document.removeEventListener("submit", onSubmit);
}
