/** Sends one message to one channel; throws an error whose message is safe to record (no secrets). */
import type { ChannelConfig, ChannelKind } from "./config.ts";
import type { AlertMessage } from "./message.ts";
import { slackPayload } from "./slack.ts";
import { discordPayload } from "./discord.ts";
import { webhookRequest } from "./webhook.ts";
import { mailFor, sendMail } from "./email.ts";
import { checkHost, type OutboundPolicy } from "../../net/outbound.ts";
import { postJson } from "../../net/post_json.ts";

/** How a send is made: the outbound policy, and SMTP's extra trust for tests. */
export interface SendOptions extends OutboundPolicy {
  timeoutMs?: number;
  smtpCaCerts?: string[];
}

/** Delivers `m` through a channel of `kind` with its decrypted config. */
export async function sendToChannel(
  kind: ChannelKind,
  cfg: ChannelConfig,
  m: AlertMessage,
  ctx: { deliveryId: string; now: number; options: SendOptions },
): Promise<void> {
  if (kind === "email") {
    const c = cfg as Extract<ChannelConfig, { host: string }>;
    await checkHost(c.host, ctx.options);
    await sendMail({
      ...mailFor(m, c),
      timeoutMs: ctx.options.timeoutMs ?? 30_000,
      caCerts: ctx.options.smtpCaCerts,
      now: ctx.now,
    });
    return;
  }
  const { url } = cfg as { url: string };
  let body: string;
  let headers: Record<string, string> = {};
  const userAgent = { "user-agent": "Capstan-Alerts/1" };
  if (kind === "slack") body = JSON.stringify(slackPayload(m));
  else if (kind === "discord") body = JSON.stringify(discordPayload(m));
  else {
    ({ body, headers } = await webhookRequest(
      m,
      (cfg as { secret: string }).secret,
      ctx.deliveryId,
      ctx.now,
    ));
  }
  const r = await postJson(url, body, { ...userAgent, ...headers }, ctx.options);
  if (r.status < 200 || r.status > 299) {
    const why = r.status >= 300 && r.status < 400 ? " (redirects are not followed)" : "";
    throw new Error(
      `${new URL(url).host} answered ${r.status}${why}${r.snippet ? `: ${r.snippet}` : ""}`,
    );
  }
}
