// The cost estimate of a form (new app, template deploy, scale), kept up to date as the user
// changes replicas or reservations: the numbers are read from the enclosing form on every input,
// and after a short pause priced by the hub's own meter (`POST …/billing/estimate`), so the page
// never prices anything itself. Without JS the server-rendered line and the "Preview cost" button
// do the same.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  CostEstimate,
  type EstimateFields,
  type EstimateService,
  type EstimateView,
  proposedServices,
  reserves,
} from "../components/CostEstimate.tsx";

export interface CostEstimateLiveProps {
  /** `POST /api/v1/orgs/{org}/billing/estimate`. */
  url: string;
  /** The proposed services before the form's values (an app's saved services, or one blank). */
  services: EstimateService[];
  /** The service the form's fields change (unless `fields.service` names one of `names`). */
  index: number;
  fields: EstimateFields;
  /** The services' names, for `fields.service`. */
  names?: string[];
  /** The estimate the server rendered. */
  initial: EstimateView;
}

/** Typing pauses this long before the hub is asked (one request per pause, not per key). */
const DEBOUNCE_MS = 250;

export default function CostEstimateLive(p: CostEstimateLiveProps) {
  const view = useSignal<EstimateView>(p.initial);
  const busy = useSignal(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const form = root.current?.closest("form");
    if (!form) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inflight: AbortController | undefined;
    let last = "";
    const value = (name: string) => {
      const el = form.elements.namedItem(name);
      return el && "value" in el ? String(el.value) : undefined;
    };
    const update = () => {
      clearTimeout(timer);
      const services = proposedServices(p.services, p.index, p.fields, value, p.names);
      const body = services ? JSON.stringify({ services }) : "";
      if (body === last) return;
      last = body;
      inflight?.abort();
      if (!services) {
        view.value = { kind: "invalid" };
        return;
      }
      if (!reserves(services)) {
        view.value = { kind: "unreserved" };
        return;
      }
      busy.value = true;
      timer = setTimeout(async () => {
        const ctl = inflight = new AbortController();
        try {
          const res = await fetch(p.url, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json" },
            body,
            signal: ctl.signal,
          });
          if (!res.ok) {
            view.value = { kind: "invalid" };
          } else {
            const e = await res.json() as { currency: string; per_hour: number; per_month: number };
            view.value = {
              kind: "priced",
              currency: e.currency,
              per_hour: e.per_hour,
              per_month: e.per_month,
            };
          }
        } catch {
          // Aborted by a newer input, or the hub is away: the newer request (or the next input)
          // decides what is shown.
          if (ctl.signal.aborted) return;
        }
        if (inflight === ctl) busy.value = false;
      }, DEBOUNCE_MS);
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    return () => {
      clearTimeout(timer);
      inflight?.abort();
      form.removeEventListener("input", update);
      form.removeEventListener("change", update);
    };
  }, []);
  return (
    <div ref={root} class="cost-estimate-live">
      <CostEstimate view={view.value} busy={busy.value} />
    </div>
  );
}
