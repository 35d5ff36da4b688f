/** Renders latest metric values in the Prometheus text exposition format (version 0.0.4). */

export interface PromHost {
  id: string;
  name: string;
  online: boolean;
}

export interface PromValue {
  host_id: string;
  container_id: string;
  key: string;
  t: number;
  v: number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `cpu.core{core=3}` → name `capstan_cpu_core` and labels `{core: "3"}`. */
export function splitKey(key: string): { name: string; labels: Record<string, string> } {
  const m = /^([^{]+)(?:\{([a-z_]+)=(.*)\})?$/.exec(key);
  const name = "capstan_" + (m?.[1] ?? key).replace(/[^a-zA-Z0-9_]/g, "_");
  return { name, labels: m?.[2] ? { [m[2]]: m[3] } : {} };
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** The exposition text: an up gauge per host, then every latest value grouped by metric name. */
export function renderPrometheus(
  hosts: PromHost[],
  values: PromValue[],
  containerNames: Map<string, string>,
): string {
  const byHost = new Map(hosts.map((h) => [h.id, h]));
  const lines: string[] = [
    "# HELP capstan_host_up 1 when the host's agent is connected",
    "# TYPE capstan_host_up gauge",
  ];
  for (const h of hosts) {
    lines.push(`capstan_host_up${labels({ host: h.name, host_id: h.id })} ${h.online ? 1 : 0}`);
  }
  const groups = new Map<string, string[]>();
  for (const v of values) {
    const host = byHost.get(v.host_id);
    if (!host) continue;
    const { name, labels: extra } = splitKey(v.key);
    const l: Record<string, string> = { host: host.name, host_id: host.id, ...extra };
    if (v.container_id) {
      l.container_id = v.container_id;
      const cname = containerNames.get(v.container_id);
      if (cname) l.container = cname;
    }
    let g = groups.get(name);
    if (!g) groups.set(name, g = [`# TYPE ${name} gauge`]);
    g.push(`${name}${labels(l)} ${Number.isFinite(v.v) ? v.v : "NaN"} ${Math.round(v.t)}`);
  }
  for (const g of groups.values()) lines.push(...g);
  return lines.join("\n") + "\n";
}
