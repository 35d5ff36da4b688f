/** Channel configuration per kind: what is secret (write-only) and what may be shown. */
import { z } from "zod";
import { EMAIL_ADDRESS } from "./email.ts";

/** Channel kinds. */
export const CHANNEL_KINDS = ["slack", "discord", "webhook", "email"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

const Url = z.string().min(1).max(2048).meta({
  description: "Write-only: stored encrypted, never returned",
});
const NoBreaks = /^[^\r\n\0]*$/;
const Address = z.string().max(254).regex(
  EMAIL_ADDRESS,
  "must be a plain address like ops@example.com",
);
const SmtpHost = z.string().max(253).regex(
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/,
  "must be a host name or an IP address",
);

/** Full configs by kind (what is encrypted). */
export const ChannelConfigs = {
  slack: z.object({ url: Url }),
  discord: z.object({ url: Url }),
  webhook: z.object({
    url: Url,
    secret: z.string().min(16).max(256).regex(NoBreaks, "must be one line").meta({
      description: "HMAC-SHA256 signing secret (write-only), at least 16 characters",
    }),
  }),
  email: z.object({
    host: SmtpHost,
    port: z.number().int().min(1).max(65535).default(587),
    security: z.enum(["tls", "starttls", "none"]).default("starttls"),
    username: z.string().max(256).regex(NoBreaks, "must be one line").nullable().default(null),
    password: z.string().max(256).regex(NoBreaks, "must be one line").nullable().default(null)
      .meta({ description: "Write-only: stored encrypted, never returned" }),
    from: Address,
    to: z.array(Address).min(1).max(20),
  }),
} as const;

/** A full config of some kind. */
export type ChannelConfig =
  | z.infer<typeof ChannelConfigs.slack>
  | z.infer<typeof ChannelConfigs.discord>
  | z.infer<typeof ChannelConfigs.webhook>
  | z.infer<typeof ChannelConfigs.email>;

/** Secret fields per kind: accepted on write, kept when omitted on update, never returned. */
export const SECRET_FIELDS: Record<ChannelKind, readonly string[]> = {
  slack: ["url"],
  discord: ["url"],
  webhook: ["url", "secret"],
  email: ["password"],
};

/** What the API shows of a config: hints only (the URL's host), and which secrets are set. */
export function channelSummary(kind: ChannelKind, cfg: Record<string, unknown>) {
  const secrets = Object.fromEntries(
    SECRET_FIELDS[kind].map((f) => [f, cfg[f] !== null && cfg[f] !== undefined && cfg[f] !== ""]),
  );
  if (kind === "email") {
    const { host, port, security, username, from, to } = cfg as z.infer<
      typeof ChannelConfigs.email
    >;
    return { secrets, hints: { host, port, security, username, from, to } };
  }
  let urlHost = "";
  try {
    urlHost = new URL(String(cfg.url)).host;
  } catch { /* validated on write; an unreadable URL shows no hint */ }
  return { secrets, hints: { url_host: urlHost } };
}
