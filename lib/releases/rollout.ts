/** Which hosts a staged rollout reaches, and when it must halt: pure rules, no I/O. */

/** A host's stable bucket 0–99 (first 32 bits of SHA-256 of its id): raising a percentage only adds hosts. */
export async function hostBucket(hostId: string): Promise<number> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(hostId)),
  );
  return (((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0) % 100;
}

/** A rollout's reach: a share of hosts, optionally only those with one label. */
export interface Reach {
  percent: number;
  /** `key=value`, or null for every host. */
  label: string | null;
}

/** Whether the rollout reaches a host with these id and labels. */
export async function reaches(
  r: Reach,
  host: { id: string; labels: Record<string, string> },
): Promise<boolean> {
  if (r.label) {
    const i = r.label.indexOf("=");
    const key = r.label.slice(0, i);
    if (host.labels[key] !== r.label.slice(i + 1)) return false;
  }
  return (await hostBucket(host.id)) < r.percent;
}

/** Why a rollout must halt now, or undefined: failures beyond the count or share allowed. */
export function haltReason(
  limits: { max_failures: number; max_failure_percent: number },
  failures: number,
  reached: number,
): string | undefined {
  if (failures > limits.max_failures) {
    return `${failures} failed updates exceed the limit of ${limits.max_failures}`;
  }
  const pct = reached > 0 ? (failures / reached) * 100 : 0;
  if (pct > limits.max_failure_percent) {
    return `${
      pct.toFixed(0)
    } % of ${reached} hosts failed to update (limit ${limits.max_failure_percent} %)`;
  }
  return undefined;
}
