import { CheckboxField, FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { MetricCatalog, MetricOptions } from "./MetricCatalog.tsx";
import type { MetricFamily } from "../lib/alerts/metric_catalog.ts";

/** Human words for the event types (unknown ones show their name). */
const EVENT_LABELS: Record<string, string> = {
  host_offline: "Host offline",
  container_exited: "Container exited unexpectedly",
  restart_loop: "Container restart loop",
  unhealthy: "Container unhealthy",
  oom: "Container killed (out of memory)",
  data_root_size: "Docker data-root larger than",
  health_check: "Health check failing",
  tasks_moved: "App tasks moved off a failed node",
  secret_rotated: "Secret rotated in an app",
  certificate: "Certificate expiring (< 14 days) or failed",
  build: "App build or deployment from Git (started, succeeded, failed, rolled back)",
  webhook_disabled: "App Git webhook disabled after bad signatures",
  snapshot_failed: "Volume snapshot or restore failed",
  snapshot_verify_failed: "Storage target verification failed (check or test restore)",
};

/** The create/edit form of a metric or an event rule; works without JS (kind is fixed per form). */
export function RuleForm(
  { action, kind, values, errors, hosts, channels, eventTypes, metrics, submit, cancelHref }:
    & FormState
    & {
      action: string;
      kind: "metric" | "event";
      /** The organization's metric catalogue, offered by the metric field. */
      metrics: MetricFamily[];
      hosts: { id: string; name: string }[];
      channels: { id: string; name: string; kind: string }[];
      eventTypes: readonly string[];
      submit: string;
      cancelHref: string;
    },
) {
  const common = { values, errors, idPrefix: "rule" };
  return (
    <form method="post" action={action} class="card form rule-form" novalidate>
      <FormAlert errors={errors} />
      <input type="hidden" name="kind" value={kind} />
      <TextField name="name" label="Name" required maxLength={100} {...common} />
      <CheckboxField name="enabled" label="Enabled" {...common} />

      <fieldset>
        <legend>Applies to</legend>
        <div class="grid-2">
          <SelectField
            name="scope"
            label="Scope"
            options={[
              { value: "org", label: "Every host of the organization" },
              { value: "host", label: "One host" },
              { value: "label", label: "Hosts with a label" },
            ]}
            {...common}
          />
          <SelectField
            name="scope_host"
            label="Host (scope: one host)"
            options={[
              { value: "", label: "—" },
              ...hosts.map((h) => ({ value: h.id, label: h.name })),
            ]}
            {...common}
          />
          <TextField
            name="scope_label"
            label="Label (scope: hosts with a label)"
            placeholder="env=prod"
            hint="key=value"
            {...common}
          />
        </div>
      </fieldset>

      {kind === "metric"
        ? (
          <fieldset>
            <legend>Metric and thresholds</legend>
            <div class="grid-2">
              <TextField
                name="metric"
                label="Metric"
                placeholder="cpu.total_pct"
                list="rule-metric-list"
                hint="A series the agents report (the list and the catalogue below); without {label=value} it covers every mount or device"
                {...common}
              />
              <SelectField
                name="op"
                label="Fires when the value is"
                options={[{ value: ">", label: "above the trigger (>)" }, {
                  value: "<",
                  label: "below the trigger (<)",
                }]}
                {...common}
              />
              <TextField name="trigger" label="Trigger" type="number" required {...common} />
              <TextField
                name="clear"
                label="Clear"
                type="number"
                hint="Resolves only past this (hysteresis); blank = the trigger"
                {...common}
              />
              <SelectField
                name="mode"
                label="Evaluate"
                options={[
                  { value: "instant", label: "Each 1 s sample, held for the hold time" },
                  { value: "avg", label: "Average over a window" },
                ]}
                {...common}
              />
              <TextField
                name="hold_s"
                label="Hold time (seconds)"
                type="number"
                min={0}
                hint="How long the value must stay beyond the trigger"
                {...common}
              />
              <TextField
                name="window_s"
                label="Average window (seconds)"
                type="number"
                min={5}
                {...common}
              />
              <CheckboxField
                name="container"
                label="Evaluate on each container (ctr.* series)"
                {...common}
              />
            </div>
            <MetricOptions id="rule-metric-list" families={metrics} />
            <MetricCatalog families={metrics} />
          </fieldset>
        )
        : (
          <fieldset>
            <legend>Event</legend>
            <div class="grid-2">
              <SelectField
                name="event"
                label="Event"
                options={eventTypes.map((e) => ({ value: e, label: EVENT_LABELS[e] ?? e }))}
                {...common}
              />
              <TextField
                name="hold_s"
                label="Hold time (seconds)"
                type="number"
                min={0}
                hint="Host offline: how long without a report (at least 30)"
                {...common}
              />
              <TextField
                name="event_count"
                label="Restarts (restart loop)"
                type="number"
                min={2}
                {...common}
              />
              <TextField
                name="event_window_s"
                label="Within seconds (restart loop)"
                type="number"
                min={10}
                {...common}
              />
              <TextField
                name="trigger"
                label="Size in bytes (data-root size)"
                type="number"
                {...common}
              />
            </div>
          </fieldset>
        )}

      <fieldset>
        <legend>Notifications</legend>
        <div class="grid-2">
          <SelectField
            name="severity"
            label="Severity"
            options={[{ value: "warning", label: "Warning" }, {
              value: "critical",
              label: "Critical",
            }]}
            {...common}
          />
          <TextField
            name="repeat_s"
            label="Remind every (seconds)"
            type="number"
            min={0}
            hint="0 = no reminders while firing; else at least 60"
            {...common}
          />
          <TextField
            name="quiet_start"
            label="Quiet hours from (HH:MM)"
            placeholder="22:00"
            {...common}
          />
          <TextField
            name="quiet_end"
            label="Quiet hours until (HH:MM)"
            placeholder="07:00"
            {...common}
          />
          <TextField
            name="quiet_tz_offset"
            label="Quiet hours UTC offset (minutes)"
            type="number"
            hint="e.g. 60 for UTC+1; notifications are held, alerts still open"
            {...common}
          />
        </div>
        <fieldset class="channel-choice">
          <legend>Send to</legend>
          <CheckboxField name="channels_all" label="All channels" {...common} />
          {channels.map((ch) => (
            <CheckboxField
              key={ch.id}
              name={`ch_${ch.id}`}
              label={`${ch.name} (${ch.kind})`}
              {...common}
            />
          ))}
          {errors?.channels && <p class="field-error">{errors.channels}</p>}
          {channels.length === 0 && (
            <p class="hint">No channels yet: alerts show in Notifications only.</p>
          )}
        </fieldset>
      </fieldset>

      <div class="actions">
        <button class="btn btn-primary" type="submit">{submit}</button>
        <a class="btn" href={cancelHref}>Cancel</a>
      </div>
    </form>
  );
}
