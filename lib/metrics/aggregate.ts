/**
 * Sums of container series across containers: an app service's CPU, memory and network as the
 * sum over its replicas, and each replica (a slot, whose container is replaced on every deploy)
 * as the sum over the containers that held it. Input is one row per container, series and bucket
 * of a rollup tier (query.containerBuckets); output is points of a coarser display step.
 *
 * A container alive for only part of a bucket (replaced, started or stopped inside it) counts
 * for that part: each container's bucket figure is its samples' sum over the number of samples
 * a whole bucket holds, taken as the median count over the input (most rows are whole buckets),
 * but never more than the most any container has in that bucket — the current minute is partial
 * for every container and must not read low. So within the bucket where slot 1's old container
 * stops and its new one starts beside a slot 2 that ran throughout, the slot reads the
 * time-weighted mean, not the two containers added up. (A lone replica replaced inside a bucket
 * has no such witness: that one bucket reads both containers added up.)
 */

/** One bucket of one series of one container (`member` names the container uniquely). */
export interface MemberBucket {
  member: string;
  key: string;
  t: number;
  sum: number;
  count: number;
}

/** A summed series: points `[t, avg, min, max]` over the finer buckets of each step. */
export interface GroupSeries {
  group: string;
  key: string;
  points: [number, number, number, number][];
}

/** The upper median of a list of counts (0 for none). */
function wholeBucketCount(counts: number[]): number {
  if (!counts.length) return 0;
  const sorted = [...counts].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Sums each series over the members of each group (a member may be in several groups, e.g. its
 * service and its slot) per bucket, then averages the sums into steps of `step` ms within
 * [from, to). Groups and keys come out sorted; a group with no data for a key is left out.
 */
export function sumAcrossMembers(
  rows: MemberBucket[],
  groupsOf: (member: string) => string[],
  step: number,
  from: number,
  to: number,
): GroupSeries[] {
  // Rows of one member, series and bucket merge first (an hour still pending arrives as minutes).
  const merged = new Map<string, MemberBucket>();
  for (const r of rows) {
    const k = `${r.member}\u0000${r.key}\u0000${r.t}`;
    const m = merged.get(k);
    if (m) {
      m.sum += r.sum;
      m.count += r.count;
    } else merged.set(k, { ...r });
  }
  const countsByKey = new Map<string, number[]>();
  for (const m of merged.values()) {
    const c = countsByKey.get(m.key);
    if (c) c.push(m.count);
    else countsByKey.set(m.key, [m.count]);
  }
  const whole = new Map([...countsByKey].map(([k, c]) => [k, wholeBucketCount(c)]));
  // The most samples any member has per series and bucket.
  const most = new Map<string, number>();
  for (const m of merged.values()) {
    const k = `${m.key}\u0000${m.t}`;
    most.set(k, Math.max(most.get(k) ?? 0, m.count));
  }

  // group → key → bucket → summed figure
  const sums = new Map<string, Map<string, Map<number, number>>>();
  for (const m of merged.values()) {
    if (m.t < from || m.t >= to || m.count === 0) continue;
    const full = Math.min(whole.get(m.key)!, most.get(`${m.key}\u0000${m.t}`)!);
    const v = m.sum / Math.max(m.count, full);
    for (const g of groupsOf(m.member)) {
      let byKey = sums.get(g);
      if (!byKey) sums.set(g, byKey = new Map());
      let byT = byKey.get(m.key);
      if (!byT) byKey.set(m.key, byT = new Map());
      byT.set(m.t, (byT.get(m.t) ?? 0) + v);
    }
  }

  const out: GroupSeries[] = [];
  for (const g of [...sums.keys()].sort()) {
    const byKey = sums.get(g)!;
    for (const key of [...byKey.keys()].sort()) {
      const steps = new Map<number, { sum: number; n: number; min: number; max: number }>();
      for (const [t, v] of byKey.get(key)!) {
        const b = t - (t % step);
        const s = steps.get(b);
        if (!s) steps.set(b, { sum: v, n: 1, min: v, max: v });
        else {
          s.sum += v;
          s.n++;
          s.min = Math.min(s.min, v);
          s.max = Math.max(s.max, v);
        }
      }
      const points = [...steps].sort((a, b) => a[0] - b[0])
        .map(([t, s]) => [t, s.sum / s.n, s.min, s.max] as [number, number, number, number]);
      out.push({ group: g, key, points });
    }
  }
  return out;
}
