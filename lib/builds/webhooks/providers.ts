/**
 * The Git hosts that can push-to-deploy, and what their webhook deliveries say in their headers:
 * which host sent one, its delivery id and its event name. Header values are attacker-controlled
 * until the signature verifies, so everything read here is bounded and checked against a charset.
 */

/** A Git host whose push webhooks Capstan accepts. */
export type Provider = "github" | "gitlab" | "bitbucket" | "gitea";

/** Every provider, in the order `detectProvider` tries them. */
export const PROVIDERS: readonly Provider[] = ["gitea", "gitlab", "bitbucket", "github"];

/** The headers each provider names its event and delivery id in (first present wins). */
const META_HEADERS: Record<Provider, { event: string[]; delivery: string[] }> = {
  github: { event: ["x-github-event"], delivery: ["x-github-delivery"] },
  gitlab: { event: ["x-gitlab-event"], delivery: ["x-gitlab-event-uuid"] },
  // Bitbucket Cloud documents X-Request-UUID as the request's id; X-Hook-UUID names the webhook
  // (the same for every delivery), so it is no delivery id and there is no fallback.
  bitbucket: { event: ["x-event-key"], delivery: ["x-request-uuid"] },
  // Forgejo sends both its own and Gitea's names.
  gitea: {
    event: ["x-gitea-event", "x-forgejo-event"],
    delivery: ["x-gitea-delivery", "x-forgejo-delivery"],
  },
};

/** Which provider sent this, from its headers (undefined when none matches). */
export function detectProvider(headers: Headers): Provider | undefined {
  // Gitea also sends X-GitHub-Event and X-Hub-Signature-256 for compatibility, so its own headers
  // are looked at first, and GitHub is the last resort.
  const has = (...names: string[]) => names.some((n) => headers.has(n));
  if (has("x-gitea-event", "x-forgejo-event", "x-gitea-signature", "x-forgejo-signature")) {
    return "gitea";
  }
  if (has("x-gitlab-event", "x-gitlab-token")) return "gitlab";
  if (has("x-event-key")) return "bitbucket";
  if (has("x-github-event")) return "github";
  return undefined;
}

// UUIDs and GUIDs in practice; braces because Atlassian writes UUIDs as {…} in places.
const DELIVERY_ID = /^[A-Za-z0-9{}._:-]{1,128}$/;
// "push", "Push Hook", "repo:push", "Tag Push Hook".
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9 _:.-]{0,63}$/;

/** Delivery id and event name from headers (bounded lengths, validated charset). */
export function deliveryMeta(
  provider: Provider,
  headers: Headers,
): { deliveryId: string | undefined; event: string | undefined } {
  const names = META_HEADERS[provider];
  return {
    deliveryId: firstMatching(headers, names.delivery, DELIVERY_ID),
    event: firstMatching(headers, names.event, EVENT_NAME),
  };
}

function firstMatching(headers: Headers, names: string[], shape: RegExp): string | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value === null || value === "") continue;
    // A present but malformed value is not replaced by a later header's: the sender meant this one.
    return shape.test(value) ? value : undefined;
  }
  return undefined;
}
