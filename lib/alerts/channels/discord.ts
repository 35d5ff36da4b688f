/** Discord webhooks: a short `content` line and one embed; mentions are disabled outright. */
import { type AlertMessage, headline, oneLine } from "./message.ts";

const COLORS = { firing: 0xd93025, reminder: 0xe37400, resolved: 0x188038, test: 0x1a73e8 };

/** The JSON body of a Discord webhook POST. */
export function discordPayload(m: AlertMessage): Record<string, unknown> {
  const fields = [
    m.host && { name: "Host", value: oneLine(m.host, 1024), inline: true },
    m.container && { name: "Container", value: oneLine(m.container, 1024), inline: true },
    { name: "Severity", value: m.severity, inline: true },
    { name: "Rule", value: oneLine(m.rule, 1024), inline: false },
  ].filter(Boolean);
  return {
    content: headline(m).slice(0, 2000),
    // A container named "@everyone" must not ping a whole server.
    allowed_mentions: { parse: [] },
    embeds: [{
      title: oneLine(m.title, 256),
      description: oneLine(m.detail, 4000),
      color: COLORS[m.event],
      fields,
      timestamp: new Date(m.ended_at ?? m.started_at).toISOString(),
      ...(m.url ? { url: m.url } : {}),
    }],
  };
}
