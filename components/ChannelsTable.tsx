import type { ChannelView } from "../lib/alerts/channels/store.ts";
import { Badge } from "./Badge.tsx";
import { CHANNEL_LABELS } from "./ChannelForm.tsx";

/** Where a channel sends, from its shown hints only (secrets never reach this table). */
function target(ch: ChannelView): string {
  const h = ch.hints as Record<string, unknown>;
  if (ch.kind === "email") {
    const to = Array.isArray(h.to) ? h.to.join(", ") : "";
    return `${to} via ${h.host}:${h.port}`;
  }
  return String(h.url_host ?? "");
}

/** Notification channels with edit, send-test and delete. */
export function ChannelsTable({ channels, base }: { channels: ChannelView[]; base: string }) {
  return (
    <div class="table-wrap">
      <table class="table-cards channels-table">
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Kind</th>
            <th scope="col">Sends to</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {channels.map((ch) => {
            const path = `${base}/${encodeURIComponent(ch.id)}`;
            return (
              <tr key={ch.id} data-channel={ch.id}>
                <th class="card-title" scope="row">
                  <a href={`${path}/edit`}>{ch.name}</a>
                </th>
                <td data-label="Kind">{CHANNEL_LABELS[ch.kind]}</td>
                <td data-label="Sends to" class="cell-target">{target(ch)}</td>
                <td data-label="State">
                  <Badge tone={ch.enabled ? "ok" : "neutral"}>
                    {ch.enabled ? "enabled" : "disabled"}
                  </Badge>
                </td>
                <td class="actions-cell">
                  <div class="row-actions">
                    <form method="post" action={`${path}/test`}>
                      <button
                        class="btn btn-small"
                        type="submit"
                        aria-label={`Send a test to ${ch.name}`}
                      >
                        Send test
                      </button>
                    </form>
                    <a class="btn btn-small" href={`${path}/edit`}>Edit</a>
                    <a class="btn btn-small btn-danger-ghost" href={`${path}/delete`}>Delete</a>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
