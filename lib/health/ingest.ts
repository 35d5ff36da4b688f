/**
 * Results of one host's agent into the database: results for checks of other hosts (or deleted
 * ones) dropped, replays ignored, each check's state machine stepped, the results and the new
 * states written in one transaction, then one live event per batch and one per state change.
 */
import { type HealthResult, MAX_CHECK_OUTPUT_BYTES } from "../protocol/health.ts";
import { stepHealth } from "./state.ts";
import { changeBase, type HealthChange, num } from "./rows.ts";
import type { HostWork } from "./host_work.ts";

/** Results inserted per statement. */
const INSERT_CHUNK = 200;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A result's output as stored: at most MAX_CHECK_OUTPUT_BYTES (the hub trusts no agent to have
 * cut it), and whether anything was cut, here or by the agent.
 */
export function storedOutput(r: HealthResult): { output: string | null; truncated: boolean } {
  if (r.output === undefined || r.output === null) {
    return { output: null, truncated: r.output_truncated === true };
  }
  const bytes = encoder.encode(r.output);
  if (bytes.length <= MAX_CHECK_OUTPUT_BYTES) {
    return { output: r.output, truncated: r.output_truncated === true };
  }
  // A cut inside a character leaves a replacement character, dropped here.
  const cut = decoder.decode(bytes.subarray(0, MAX_CHECK_OUTPUT_BYTES)).replace(/\uFFFD$/, "");
  return { output: cut, truncated: true };
}

/** Stores a host's results and moves each check's state; call serially per host. */
export async function ingestResults(
  w: HostWork,
  host: { id: string; org_id: string },
  results: HealthResult[],
): Promise<void> {
  const { db, clock, announce, announceChange } = w;
  const ids = [...new Set(results.map((r) => r.check_id))];
  const rows = await db.selectFrom("health_checks").selectAll().where("host_id", "=", host.id)
    .where("id", "in", ids).execute();
  // Results for checks of another host (or deleted ones, or ones whose container is gone and
  // that were stopped) are dropped here: a late "container not found" must not raise an alert.
  const checks = new Map(rows.filter((r) => r.container_gone_at === null).map((r) => [r.id, r]));
  const mine = results.filter((r) => checks.has(r.check_id)).sort((a, b) => a.at - b.at);
  if (!mine.length) return;
  const states = new Map(rows.map((r) => [r.id, {
    state: r.state,
    state_since: Number(r.state_since),
    consecutive_failures: Number(r.consecutive_failures),
    consecutive_successes: Number(r.consecutive_successes),
    last_at: num(r.last_at),
  }]));
  const latest = new Map<string, HealthResult>();
  const stored: HealthResult[] = [];
  const changes: HealthChange[] = [];
  for (const res of mine) {
    const c = checks.get(res.check_id)!;
    const before = states.get(c.id)!;
    const step = stepHealth(before, {
      retries: Number(c.retries),
      start_delay_s: Number(c.start_delay_s),
      started_at: Number(c.started_at),
    }, res);
    if (step.next === before) continue; // a replay
    states.set(c.id, step.next);
    stored.push(res);
    latest.set(c.id, res);
    if (step.change) {
      changes.push({
        ...changeBase(c),
        from: step.change.from,
        to: step.change.to,
        at: res.at,
        error: res.error ?? null,
      });
    }
  }
  if (!stored.length) return;
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < stored.length; i += INSERT_CHUNK) {
      await tx.insertInto("health_results").values(
        stored.slice(i, i + INSERT_CHUNK).map((r) => {
          const { output, truncated } = storedOutput(r);
          return {
            check_id: r.check_id,
            at: r.at,
            ok: r.ok ? 1 : 0,
            response_ms: r.response_ms,
            status_code: r.status_code ?? null,
            exit_code: r.exit_code ?? null,
            error: r.error ?? null,
            output,
            output_truncated: truncated ? 1 : 0,
          };
        }),
      ).execute();
    }
    const now = clock.now();
    for (const [id, r] of latest) {
      const s = states.get(id)!;
      await tx.updateTable("health_checks").set({
        state: s.state,
        state_since: s.state_since,
        consecutive_failures: s.consecutive_failures,
        consecutive_successes: s.consecutive_successes,
        last_at: r.at,
        last_ok: r.ok ? 1 : 0,
        last_response_ms: r.response_ms,
        last_status_code: r.status_code ?? null,
        last_error: r.error ?? null,
        updated_at: now,
      }).where("id", "=", id).execute();
    }
  });
  // One small event per batch (NOTIFY payloads are bounded): clients refetch what they show.
  const few = latest.size <= 40;
  announce(host.org_id, {
    kind: "results",
    host_id: host.id,
    count: stored.length,
    ...(few
      ? {
        checks: [...latest].map(([id, r]) => ({
          id,
          state: states.get(id)!.state,
          ok: r.ok,
          at: r.at,
          response_ms: r.response_ms,
        })),
      }
      : {}),
  });
  for (const c of changes) announceChange(c);
}
