/** Slack incoming webhooks: `text` for notifications and clients without blocks, plus Block Kit. */
import { type AlertMessage, headline, oneLine, textLines } from "./message.ts";

/** Slack's mrkdwn treats &, < and > as control characters (links, mentions): escape them. */
export function slackEscape(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The JSON body of an incoming-webhook POST. */
export function slackPayload(m: AlertMessage): Record<string, unknown> {
  const fields = [
    m.host && `*Host:* ${slackEscape(oneLine(m.host))}`,
    m.container && `*Container:* ${slackEscape(oneLine(m.container))}`,
    `*Severity:* ${m.severity}`,
    `*Rule:* ${slackEscape(oneLine(m.rule))}`,
  ].filter(Boolean).map((text) => ({ type: "mrkdwn", text }));
  return {
    text: slackEscape(textLines(m).filter(Boolean).slice(0, 3).join(" — ")),
    blocks: [
      { type: "header", text: { type: "plain_text", text: headline(m).slice(0, 150) } },
      { type: "section", text: { type: "mrkdwn", text: slackEscape(oneLine(m.detail, 2000)) } },
      { type: "section", fields },
      ...(m.url
        ? [{
          type: "context",
          elements: [{ type: "mrkdwn", text: `<${encodeURI(m.url)}|Open in Capstan>` }],
        }]
        : []),
    ],
  };
}
