/**
 * Signs a webhook body the way each Git host does, for tests and the bench: the headers a real
 * delivery carries (signature or token, event name, delivery id), plus example bodies.
 */
import examples from "@octokit/webhooks-examples/api.github.com/index.json" with { type: "json" };
import type { Provider } from "../../lib/builds/webhooks.ts";
// WebCrypto, where verify.ts uses node:crypto: a test does not check the code with itself.
import { hmacHex } from "../../lib/alerts/channels/webhook.ts";

export { hmacHex };

/** The event name of a push, per provider (GitLab sends tag pushes as "Tag Push Hook"). */
export const PUSH_EVENT: Record<Provider, string> = {
  github: "push",
  gitlab: "Push Hook",
  bitbucket: "repo:push",
  gitea: "push",
};

/** Options of `signWebhook`. */
export interface SignOptions {
  /** The event header's value; a push by default. */
  event?: string;
  /** The delivery id header's value; a random UUID by default. */
  deliveryId?: string;
  /** For gitea: send Forgejo's headers (both X-Forgejo-* and X-Gitea-*), as Forgejo does. */
  forgejo?: boolean;
}

/** The headers a real delivery of `body` signed with `secret` carries, content type included. */
export async function signWebhook(
  provider: Provider,
  body: Uint8Array | string,
  secret: string,
  options: SignOptions = {},
): Promise<Headers> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const event = options.event ?? PUSH_EVENT[provider];
  const id = options.deliveryId ?? crypto.randomUUID();
  const h = new Headers({ "content-type": "application/json" });
  switch (provider) {
    case "github":
      h.set("x-github-event", event);
      h.set("x-github-delivery", id);
      h.set("x-hub-signature-256", `sha256=${await hmacHex(secret, bytes)}`);
      break;
    case "gitlab":
      h.set("x-gitlab-event", event);
      h.set("x-gitlab-event-uuid", id);
      h.set("x-gitlab-token", secret);
      break;
    case "bitbucket":
      h.set("x-event-key", event);
      h.set("x-request-uuid", id);
      h.set("x-hook-uuid", "{0b0c0d0e-0000-4000-8000-000000000001}");
      h.set("x-hub-signature", `sha256=${await hmacHex(secret, bytes)}`);
      break;
    case "gitea": {
      const sig = await hmacHex(secret, bytes);
      // Gitea also sends GitHub's names, which detection must not be fooled by.
      h.set("x-github-event", event);
      h.set("x-github-delivery", id);
      h.set("x-hub-signature-256", `sha256=${sig}`);
      h.set("x-gitea-event", event);
      h.set("x-gitea-delivery", id);
      h.set("x-gitea-signature", sig);
      if (options.forgejo) {
        h.set("x-forgejo-event", event);
        h.set("x-forgejo-delivery", id);
        h.set("x-forgejo-signature", sig);
      }
      break;
    }
  }
  return h;
}

/** GitHub's published example payloads of one event, from `@octokit/webhooks-examples`. */
// deno-lint-ignore no-explicit-any
export function githubExamples(event: string): any[] {
  const def = (examples as { name: string; examples: unknown[] }[]).find((d) => d.name === event);
  if (!def) throw new Error(`@octokit/webhooks-examples has no "${event}" examples`);
  return def.examples;
}

const FIXTURES = new URL("../../lib/builds/testdata/webhooks/", import.meta.url);

/** A branch push body of each provider as the host would send it (JSON text). */
export function pushBody(provider: Provider): string {
  if (provider === "github") {
    const ex = githubExamples("push").find((e) => e.ref === "refs/heads/master" && !e.deleted);
    return JSON.stringify(ex);
  }
  return Deno.readTextFileSync(new URL(`${provider}_push.json`, FIXTURES));
}
