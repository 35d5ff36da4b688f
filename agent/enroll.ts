/** The hub answered that the enrollment token is invalid, used or expired: retrying cannot help. */
export class EnrollmentRefused extends Error {}

/** A failure worth retrying later (hub unreachable, 5xx, rate limited). */
export class EnrollmentUnavailable extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/**
 * Exchanges a single-use enrollment token for this host's long-lived token, bound by the hub to
 * `machineId`. The token travels in the JSON body of a POST, never in a URL.
 */
export async function enroll(
  hubUrl: string,
  input: { token: string; machineId: string; hostname: string },
  fetchFn: typeof fetch = fetch,
): Promise<{ hostId: string; hostToken: string }> {
  let res: Response;
  try {
    res = await fetchFn(`${hubUrl}/api/v1/agent/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        token: input.token,
        machine_id: input.machineId,
        hostname: input.hostname.slice(0, 255),
      }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new EnrollmentUnavailable(`cannot reach the hub at ${hubUrl}: ${(err as Error).message}`);
  }
  const body = await res.json().catch(() => null) as
    | { host_id?: unknown; host_token?: unknown; error?: { message?: string } }
    | null;
  if (res.ok && typeof body?.host_id === "string" && typeof body?.host_token === "string") {
    return { hostId: body.host_id, hostToken: body.host_token };
  }
  const why = body?.error?.message ?? `HTTP ${res.status}`;
  if (res.status === 429) {
    const after = Number(res.headers.get("retry-after"));
    throw new EnrollmentUnavailable(
      `enrollment rate limited: ${why}`,
      after > 0 ? after * 1000 : undefined,
    );
  }
  if (res.status >= 500 || res.ok) throw new EnrollmentUnavailable(`enrollment failed: ${why}`);
  throw new EnrollmentRefused(`enrollment refused by the hub: ${why}`);
}
