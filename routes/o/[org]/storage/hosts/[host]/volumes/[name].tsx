import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../../../../lib/http/context.ts";
import type { HttpError } from "../../../../../../../lib/http/errors.ts";
import { page } from "../../../../../../../lib/http/pages.ts";
import { island } from "../../../../../../../lib/islands/island.tsx";
import { NotFound } from "../../../../../../../lib/errors.ts";
import { DockerInputError, volumeName } from "../../../../../../../lib/docker/validate.ts";
import type {
  Snapshot,
  SnapshotRestore,
  SnapshotSchedule,
  SnapshotVolume,
} from "../../../../../../../lib/snapshots/store.ts";
import type { TargetView } from "../../../../../../../lib/snapshots/targets.ts";
import { restoreTopic, snapshotTopic } from "../../../../../../../lib/snapshots/topics.ts";
import SnapshotProgress from "../../../../../../../islands/SnapshotProgress.tsx";
import { PageHeader } from "../../../../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../../../../components/EmptyState.tsx";
import { Alert } from "../../../../../../../components/Alert.tsx";
import { Badge } from "../../../../../../../components/Badge.tsx";
import { ConfirmForm } from "../../../../../../../components/ConfirmForm.tsx";
import {
  CheckboxField,
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../../../../components/Field.tsx";
import { bytes, duration } from "../../../../../../../components/format.ts";
import { Time } from "../../../../../../../components/Time.tsx";
import {
  errorsOf,
  formError,
  type FormValues,
  readForm,
  safePath,
} from "../../../../../../_forms.ts";
import { type PageKit, render, seeOther } from "../../../../../../_render.tsx";
import { abilities } from "../../../../_docker.tsx";
import { FOLLOW_PARAM } from "../../../_card.tsx";
import {
  StorageFlash,
  storageHref,
  SyncBadge,
  targetsHref,
  volumeHref,
} from "../../../_storage.tsx";

const SnapshotProgressIsland = island("SnapshotProgress", SnapshotProgress);
const PATH = "/o/:org/storage/hosts/:host/volumes/:name";
const PAGE = 25;

/** The volume a page is about: its host (the org's) and its name, and its row if it has one. */
interface VolumeRef {
  host: { id: string; name: string };
  name: string;
  row: SnapshotVolume | undefined;
}

async function volumeOf(c: AppContext): Promise<VolumeRef> {
  const { org } = orgScopeOf(c);
  const host = await c.var.services.hosts.get(org.id, c.req.param("host") ?? "");
  let name: string;
  try {
    name = volumeName(c.req.param("name") ?? "");
  } catch (err) {
    if (err instanceof DockerInputError) throw new NotFound("No such volume");
    throw err;
  }
  const row = await c.var.services.snapshotStore.volumeOn(org.id, host.id, name);
  return { host: { id: host.id, name: host.name }, name, row };
}

/** What a failed form or action brings back. */
interface VolumePageState {
  error?: HttpError;
  settings?: FormState;
  schedule?: FormState;
}

const STATUS_TONE = { complete: "ok", running: "warn", failed: "error" } as const;
const TRIGGER_WORDS: Record<Snapshot["trigger"], string> = {
  manual: "by hand",
  api: "through the API",
  schedule: "scheduled",
  stop: "on stop",
};

function SnapshotsTable(
  { c, v, snapshots, operate, admin }: {
    c: AppContext;
    v: VolumeRef;
    snapshots: Snapshot[];
    operate: boolean;
    admin: boolean;
  },
) {
  const self = volumeHref(c, v.host.id, v.name);
  const rows = (
    <table class="table-cards snapshots-table">
      <thead>
        <tr>
          {admin && (
            <th scope="col">
              <span class="visually-hidden">Select</span>
            </th>
          )}
          <th scope="col">Taken</th>
          <th scope="col">Status</th>
          <th scope="col">Files</th>
          <th scope="col">Processed</th>
          <th scope="col">Added</th>
          <th scope="col">Took</th>
          {operate && (
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {snapshots.map((s) => (
          <tr key={s.id} data-snapshot={s.id} data-status={s.status}>
            {admin && (
              <td>
                {s.status !== "running" && (
                  <input
                    type="checkbox"
                    name={`id_${s.id}`}
                    aria-label={`Select the snapshot of ${new Date(s.started_at).toISOString()}`}
                  />
                )}
              </td>
            )}
            <td class="card-title nowrap">
              <Time ms={s.started_at} />
              <div class="muted small">
                {TRIGGER_WORDS[s.trigger]}
                {s.restic_id && (
                  <>
                    {" "}· <code>{s.restic_id.slice(0, 8)}</code>
                  </>
                )}
              </div>
            </td>
            <td data-label="Status">
              <Badge tone={STATUS_TONE[s.status]}>{s.status}</Badge>
              {s.error && <div class="small">{s.error}</div>}
            </td>
            <td data-label="Files">{s.files ?? "—"}</td>
            <td data-label="Processed" class="nowrap">
              {s.bytes_processed !== null ? bytes(s.bytes_processed) : "—"}
            </td>
            <td
              data-label="Added"
              class="nowrap"
              title="New data uploaded: restic stores only chunks it has not seen"
            >
              {s.bytes_added !== null ? bytes(s.bytes_added) : "—"}
            </td>
            <td data-label="Took" class="nowrap">
              {s.duration_ms !== null ? duration(s.duration_ms / 1000) : "—"}
            </td>
            {operate && (
              <td class="actions-cell">
                {s.status === "complete" && (
                  <a class="btn btn-small" href={`${self}/restore?snapshot=${s.id}`}>Restore…</a>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return admin
    ? (
      <form method="post" action={`${self}/delete`} class="table-wrap">
        {rows}
        <div class="actions">
          <button class="btn btn-small btn-danger" type="submit">Delete selected…</button>
        </div>
      </form>
    )
    : <div class="table-wrap">{rows}</div>;
}

function SettingsForm(
  { c, v, targets, state }: {
    c: AppContext;
    v: VolumeRef;
    targets: TargetView[];
    state?: FormState;
  },
) {
  const row = v.row;
  const dump = row?.dump ? JSON.parse(row.dump) as Record<string, string> : {};
  const values = state?.values ?? {
    target_id: row?.target_id ?? "",
    mode: row?.mode ?? "live",
    on_stop: row?.on_stop ? "on" : "",
    sync: row?.sync ? "on" : "",
    dump_container: dump.container ?? "",
    dump_engine: dump.engine ?? "postgres",
    dump_database: dump.database ?? "",
    dump_user: dump.user ?? "",
  };
  const p = { values, errors: state?.errors, idPrefix: "vs" };
  return (
    <form method="post" action={`${volumeHref(c, v.host.id, v.name)}/settings`} class="card form">
      <h2>Settings</h2>
      <FormAlert errors={state?.errors} />
      <div class="grid-2">
        <SelectField
          {...p}
          name="target_id"
          label="Target"
          options={[
            { value: "", label: "The default target" },
            ...targets.map((t) => ({ value: t.id, label: t.name })),
          ]}
        />
        <SelectField
          {...p}
          name="mode"
          label="Consistency"
          options={[
            { value: "live", label: "Live (the volume as it is)" },
            { value: "stop", label: "Stop the containers while a local copy is made" },
            { value: "dump", label: "Database dump" },
          ]}
        />
      </div>
      <fieldset>
        <legend>Database dump (dump mode)</legend>
        <div class="grid-2">
          <TextField
            {...p}
            name="dump_container"
            label="Database container"
            hint="Its name or id on this host; the dump tool runs inside it."
          />
          <SelectField
            {...p}
            name="dump_engine"
            label="Engine"
            options={[
              { value: "postgres", label: "PostgreSQL (pg_dump)" },
              { value: "mysql", label: "MySQL / MariaDB (mysqldump)" },
              { value: "mongo", label: "MongoDB (mongodump)" },
            ]}
          />
          <TextField
            {...p}
            name="dump_database"
            label="Database"
            placeholder="(all, or the default)"
          />
          <TextField {...p} name="dump_user" label="User" placeholder="(the tool's default)" />
        </div>
      </fieldset>
      <CheckboxField
        {...p}
        name="on_stop"
        label="Snapshot when its container is stopped through Capstan"
      />
      <CheckboxField
        {...p}
        name="sync"
        label="Restore on start"
        hint="When the app's container starts on a host where this volume is missing or older, the newest snapshot is restored first."
      />
      <div class="actions">
        <button class="btn" type="submit">Save settings</button>
      </div>
    </form>
  );
}

function SchedulesCard(
  { c, v, schedules, operate, state }: {
    c: AppContext;
    v: VolumeRef;
    schedules: SnapshotSchedule[];
    operate: boolean;
    state?: FormState;
  },
) {
  const self = volumeHref(c, v.host.id, v.name);
  const p = {
    values: state?.values ??
      { cron: "0 2 * * *", timezone: "UTC", keep_daily: "7", keep_weekly: "4" },
    errors: state?.errors,
    idPrefix: "sc",
  };
  const keep = (s: SnapshotSchedule) =>
    [
      s.keep_last && `last ${s.keep_last}`,
      s.keep_daily && `${s.keep_daily} daily`,
      s.keep_weekly && `${s.keep_weekly} weekly`,
      s.keep_monthly && `${s.keep_monthly} monthly`,
    ].filter(Boolean).join(", ");
  return (
    <section class="card" aria-labelledby="schedules">
      <h2 id="schedules">Schedules</h2>
      {schedules.length
        ? (
          <ul class="schedule-list">
            {schedules.map((s) => (
              <li key={s.id} data-schedule={s.id}>
                <code>{s.cron}</code> <span class="muted">({s.timezone})</span> · keeps {keep(s)}
                {!s.enabled && (
                  <>
                    <Badge tone="neutral">paused</Badge>
                  </>
                )}
                <div class="muted small">
                  next {s.next_run_at ? <Time ms={s.next_run_at} /> : "never"}
                  {s.last_run_at && (
                    <>
                      · last <Time ms={s.last_run_at} />
                    </>
                  )}
                  {s.last_error && (
                    <>
                      · <span class="text-error">{s.last_error}</span>
                    </>
                  )}
                </div>
                {operate && (
                  <form
                    method="post"
                    action={`${self}/schedules/${s.id}/delete`}
                    class="inline-action"
                  >
                    <button class="btn btn-small" type="submit">Remove</button>
                  </form>
                )}
              </li>
            ))}
          </ul>
        )
        : <p class="muted">No schedule: snapshots are taken by hand or on stop only.</p>}
      {operate && (
        <form method="post" action={`${self}/schedules`} class="form">
          <FormAlert errors={state?.errors} />
          <div class="grid-2">
            <TextField
              {...p}
              name="cron"
              label="When (cron)"
              required
              hint="minute hour day month weekday — 0 2 * * * is every day at 02:00."
            />
            <TextField {...p} name="timezone" label="Time zone" placeholder="Europe/Berlin" />
          </div>
          <div class="grid-4">
            <TextField {...p} name="keep_last" label="Keep last" type="number" min={1} />
            <TextField {...p} name="keep_daily" label="Daily" type="number" min={1} />
            <TextField {...p} name="keep_weekly" label="Weekly" type="number" min={1} />
            <TextField {...p} name="keep_monthly" label="Monthly" type="number" min={1} />
          </div>
          <p class="hint">
            After each scheduled snapshot, older ones beyond these counts are removed (restic forget
            --prune).
          </p>
          <div class="actions">
            <button class="btn" type="submit">Add schedule</button>
          </div>
        </form>
      )}
    </section>
  );
}

/** The running snapshot or restore of the volume, live. */
function Running(
  { c, v, snapshot, restore }: {
    c: AppContext;
    v: VolumeRef;
    snapshot?: Snapshot;
    restore?: SnapshotRestore;
  },
) {
  const { org } = orgScopeOf(c);
  const self = volumeHref(c, v.host.id, v.name);
  const run = snapshot ?? restore;
  if (!run) return null;
  return (
    <section class="card" aria-label="In progress">
      <SnapshotProgressIsland
        topic={snapshot ? snapshotTopic(org.id, snapshot.id) : restoreTopic(org.id, restore!.id)}
        what={snapshot ? "Snapshot" : "Restore"}
        refreshHref={self}
        status={run.status}
        bytes_done={run.progress_bytes ?? 0}
        total_bytes={run.progress_total ?? 0}
        error={run.error}
      />
    </section>
  );
}

async function volumePage(c: AppContext, state: VolumePageState = {}) {
  const { org } = orgScopeOf(c);
  const can = abilities(c);
  const v = await volumeOf(c);
  const { snapshotStore: store, storageTargets } = c.var.services;
  const before = c.req.query("before") || undefined;
  const [targets, snapshots, schedules, restores] = await Promise.all([
    storageTargets.list(org.id),
    v.row ? store.snapshots(org.id, { volume_id: v.row.id, before, limit: PAGE + 1 }) : [],
    v.row ? store.schedules(org.id, v.row.id) : [],
    store.restores(org.id, { host_id: v.host.id, limit: 20 }),
  ]);
  const shown = snapshots.slice(0, PAGE);
  const running = shown.find((s) => s.status === "running");
  const restoring = restores.find((r) => r.volume === v.name && r.status === "running");
  const lastRestore = restores.find((r) => r.volume === v.name);
  const self = volumeHref(c, v.host.id, v.name);
  const status = state.error?.status ??
    (state.settings?.errors || state.schedule?.errors ? 400 : 200);
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={storageHref(c)}>Storage</a> / <span>{v.host.name}</span>
      </nav>
      <PageHeader
        title={v.name}
        sub={
          <>
            Volume on {v.host.name}
            {v.row?.size_bytes ? <>{" "}· {bytes(v.row.size_bytes)}</> : null}
          </>
        }
      >
        {can.operate && !running && targets.length > 0 && (
          <form method="post" action={`${self}/snapshot`} class="inline-action">
            <button class="btn btn-primary" type="submit">Create snapshot</button>
          </form>
        )}
      </PageHeader>
      <StorageFlash c={c} />
      {state.error && <Alert kind="error">{state.error.message}</Alert>}
      {targets.length === 0 && (
        <Alert kind="warn">
          No storage target yet: <a href={targetsHref(c)}>add one</a> to take snapshots.
        </Alert>
      )}
      <p>
        Sync:{" "}
        <SyncBadge
          state={v.row?.sync_state ?? "none"}
          at={v.row?.synced_at}
          error={v.row?.sync_error}
        />
        {v.row?.app_id && <>{" "}· app volume{v.row.service ? ` (${v.row.service})` : ""}</>}
        {lastRestore && !restoring && (
          <>
            {" "}·{" "}
            <span data-last-restore={lastRestore.status}>
              last restore <Time ms={lastRestore.started_at} />{" "}
              <Badge tone={STATUS_TONE[lastRestore.status]}>{lastRestore.status}</Badge>
            </span>
          </>
        )}
      </p>
      <Running c={c} v={v} snapshot={running} restore={restoring} />
      <h2>Snapshots</h2>
      {shown.length
        ? <SnapshotsTable c={c} v={v} snapshots={shown} operate={can.operate} admin={can.admin} />
        : (
          <EmptyState title={before ? "No older snapshots" : "No snapshots yet"}>
            <p>Create one now, or add a schedule below.</p>
          </EmptyState>
        )}
      {snapshots.length > PAGE && (
        <p>
          <a class="btn" href={`${self}?before=${shown[shown.length - 1].id}`}>Older snapshots</a>
        </p>
      )}
      {can.admin && shown.length > 1 && (
        <form method="get" action={`${self}/prune`} class="card form form-row">
          <h2>Delete old snapshots</h2>
          <TextField
            name="keep_last"
            label="Keep the newest"
            type="number"
            min={1}
            values={{ keep_last: "3" }}
            idPrefix="pr"
          />
          <div class="form-submit">
            <button class="btn" type="submit">Preview…</button>
          </div>
        </form>
      )}
      <SchedulesCard
        c={c}
        v={v}
        schedules={schedules}
        operate={can.operate}
        state={state.schedule}
      />
      {can.operate && <SettingsForm c={c} v={v} targets={targets} state={state.settings} />}
    </>,
    { title: `Volume ${v.name}`, active: "storage", status },
  );
}

/** The form's keep counts as numbers (blank fields left out). */
function keepOf(values: FormValues) {
  const keep: Record<string, number> = {};
  for (const k of ["last", "daily", "weekly", "monthly"]) {
    const raw = values[`keep_${k}`]?.trim();
    if (raw) keep[k] = Number(raw);
  }
  return keep;
}

/**
 * A volume's storage page: its snapshots with restore and delete, schedules, settings, and a
 * "Create snapshot" whose progress is live (viewers read; members act; admins delete).
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", PATH, "org:viewer", (c) => volumePage(c));

  // From the volume page, or from a container's or app's storage card (`next`: back there, which
  // then follows the snapshot live).
  page(app, "POST", `${PATH}/snapshot`, "org:member", async (c) => {
    const v = await volumeOf(c);
    const { next } = await readForm(c);
    try {
      const { snapshot } = await c.var.services.snapshotRuns.start(
        actionContext(c),
        orgScopeOf(c).org.id,
        {
          host_id: v.host.id,
          volume: v.name,
          target_id: v.row?.target_id ?? null,
          trigger: "manual",
        },
      );
      if (next) {
        const back = new URL(safePath(next, volumeHref(c, v.host.id, v.name)), "http://x.invalid");
        back.searchParams.set(FOLLOW_PARAM, snapshot.id);
        return seeOther(c, back.pathname + back.search);
      }
      return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=snapshot_started`);
    } catch (err) {
      return await volumePage(c, { error: formError(err) });
    }
  });

  page(app, "POST", `${PATH}/settings`, "org:member", async (c) => {
    const v = await volumeOf(c);
    const values = await readForm(c);
    try {
      await c.var.services.storageVolumes.update(
        actionContext(c),
        orgScopeOf(c).org.id,
        `${v.host.id}:${v.name}`,
        {
          target_id: values.target_id || null,
          mode: values.mode || "live",
          on_stop: values.on_stop === "on",
          sync: values.sync === "on",
          ...(values.dump_container?.trim()
            ? {
              dump: {
                container: values.dump_container.trim(),
                engine: values.dump_engine,
                ...(values.dump_database?.trim() ? { database: values.dump_database.trim() } : {}),
                ...(values.dump_user?.trim() ? { user: values.dump_user.trim() } : {}),
              },
            }
            : {}),
        },
      );
      return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=volume_saved`);
    } catch (err) {
      return await volumePage(c, { settings: { values, errors: errorsOf(formError(err)) } });
    }
  });

  page(app, "POST", `${PATH}/schedules`, "org:member", async (c) => {
    const v = await volumeOf(c);
    const values = await readForm(c);
    try {
      await c.var.services.snapshotSchedules.create(actionContext(c), orgScopeOf(c).org.id, {
        host_id: v.host.id,
        volume: v.name,
        cron: values.cron ?? "",
        timezone: values.timezone?.trim() || "UTC",
        ...Object.fromEntries(Object.entries(keepOf(values)).map(([k, n]) => [`keep_${k}`, n])),
      });
      return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=schedule_saved`);
    } catch (err) {
      return await volumePage(c, { schedule: { values, errors: errorsOf(formError(err)) } });
    }
  });

  page(app, "POST", `${PATH}/schedules/:id/delete`, "org:member", async (c) => {
    const v = await volumeOf(c);
    try {
      await c.var.services.snapshotSchedules.remove(
        actionContext(c),
        orgScopeOf(c).org.id,
        c.req.param("id") ?? "",
      );
      return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=schedule_deleted`);
    } catch (err) {
      return await volumePage(c, { error: formError(err) });
    }
  });

  // Restore: choose into a new volume or back into this one (its containers are stopped first).
  page(app, "GET", `${PATH}/restore`, "org:member", async (c) => {
    const v = await volumeOf(c);
    const { org } = orgScopeOf(c);
    const s = await c.var.services.snapshotStore.snapshot(org.id, c.req.query("snapshot") ?? "");
    if (!s || s.volume_id !== v.row?.id || s.status !== "complete") {
      throw new NotFound("No such snapshot");
    }
    return await restoreChoice(c, v, s);
  });

  page(app, "POST", `${PATH}/restore`, "org:member", async (c) => {
    const v = await volumeOf(c);
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const s = await c.var.services.snapshotStore.snapshot(org.id, values.snapshot ?? "");
    if (!s || s.volume_id !== v.row?.id) throw new NotFound("No such snapshot");
    const same = values.kind === "same";
    try {
      if (same && values.confirm !== v.name) {
        return await restoreChoice(c, v, s, {
          values,
          errors: { confirm: `type the volume's name, ${v.name}, to replace its data` },
        });
      }
      await c.var.services.snapshotRuns.restore(
        actionContext(c),
        org.id,
        s.id,
        same ? { kind: "same" } : { kind: "new", volume: values.volume ?? "", host_id: v.host.id },
      );
      const where = same ? v.name : values.volume ?? v.name;
      return seeOther(c, `${volumeHref(c, v.host.id, where)}?done=restore_started`);
    } catch (err) {
      return await restoreChoice(c, v, s, {
        values,
        errors: errorsOf(formError(err), same ? "confirm" : "volume"),
      });
    }
  });

  // Bulk delete: the selected snapshots, listed for confirmation.
  page(app, "POST", `${PATH}/delete`, "org:admin", async (c) => {
    const v = await volumeOf(c);
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const ids = Object.keys(values).filter((k) => k.startsWith("id_") && values[k] === "on")
      .map((k) => k.slice(3)).slice(0, 500);
    if (values.confirmed === "1") {
      try {
        await c.var.services.snapshotRuns.remove(actionContext(c), org.id, ids);
        return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=snapshots_deleted`);
      } catch (err) {
        return await volumePage(c, { error: formError(err) });
      }
    }
    const chosen = (await Promise.all(ids.map((id) =>
      c.var.services.snapshotStore.snapshot(org.id, id)
    )))
      .filter((s): s is Snapshot => s !== undefined && s.volume_id === v.row?.id);
    if (!chosen.length) return seeOther(c, volumeHref(c, v.host.id, v.name));
    return render(
      c,
      <ConfirmForm
        title={`Delete ${chosen.length} snapshot${chosen.length === 1 ? "" : "s"} of ${v.name}?`}
        action={`${volumeHref(c, v.host.id, v.name)}/delete`}
        confirm="Delete snapshots"
        cancelHref={volumeHref(c, v.host.id, v.name)}
        hidden={{ confirmed: "1", ...Object.fromEntries(chosen.map((s) => [`id_${s.id}`, "on"])) }}
      >
        <ul>
          {chosen.map((s) => (
            <li key={s.id}>
              <Time ms={s.started_at} /> ·{" "}
              {s.bytes_processed !== null ? bytes(s.bytes_processed) : "—"}
            </li>
          ))}
        </ul>
        <p>They are removed from the repository (restic forget --prune); this cannot be undone.</p>
      </ConfirmForm>,
      { title: "Delete snapshots", active: "storage" },
    );
  });

  // Delete old snapshots by a keep policy: a preview of what goes, then the confirmation.
  page(app, "GET", `${PATH}/prune`, "org:admin", async (c) => {
    const v = await volumeOf(c);
    const { org } = orgScopeOf(c);
    const keep = keepOf(Object.fromEntries(new URL(c.req.url).searchParams));
    if (!v.row) throw new NotFound("This volume has no snapshots");
    try {
      const preview = await c.var.services.snapshotRuns.applyRetention(org.id, v.row.id, keep, {
        dryRun: true,
      });
      const going = (await Promise.all(preview.removed.map((id) =>
        c.var.services.snapshotStore.snapshot(org.id, id)
      )))
        .filter((s): s is Snapshot =>
          s !== undefined
        );
      return render(
        c,
        <ConfirmForm
          title={going.length
            ? `Delete ${going.length} old snapshot${going.length === 1 ? "" : "s"}?`
            : "Nothing to delete"}
          action={`${volumeHref(c, v.host.id, v.name)}/prune`}
          confirm="Delete them"
          cancelHref={volumeHref(c, v.host.id, v.name)}
          hidden={Object.fromEntries(
            Object.entries(keep).map(([k, n]) => [`keep_${k}`, String(n)]),
          )}
        >
          <p>
            Keeping {preview.kept.length}; these go:
          </p>
          <ul data-preview>
            {going.map((s) => (
              <li key={s.id}>
                <Time ms={s.started_at} /> ·{" "}
                {s.bytes_processed !== null ? bytes(s.bytes_processed) : "—"}
              </li>
            ))}
          </ul>
        </ConfirmForm>,
        { title: "Delete old snapshots", active: "storage" },
      );
    } catch (err) {
      return await volumePage(c, { error: formError(err) });
    }
  });

  page(app, "POST", `${PATH}/prune`, "org:admin", async (c) => {
    const v = await volumeOf(c);
    const { org } = orgScopeOf(c);
    if (!v.row) throw new NotFound("This volume has no snapshots");
    try {
      await c.var.services.snapshotRuns.applyRetention(org.id, v.row.id, keepOf(await readForm(c)));
      return seeOther(c, `${volumeHref(c, v.host.id, v.name)}?done=snapshots_deleted`);
    } catch (err) {
      return await volumePage(c, { error: formError(err) });
    }
  });
}

/** The restore form: into a new volume (default) or back into this one, typed to confirm. */
async function restoreChoice(c: AppContext, v: VolumeRef, s: Snapshot, state: FormState = {}) {
  const self = volumeHref(c, v.host.id, v.name);
  const p = {
    values: state.values ?? { volume: `${v.name}-restored` },
    errors: state.errors,
    idPrefix: "rs",
  };
  return await render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={storageHref(c)}>Storage</a> / <a href={self}>{v.name}</a>
      </nav>
      <PageHeader
        title="Restore a snapshot"
        sub={
          <>
            Of {v.name} on {v.host.name}, taken <Time ms={s.started_at} />
          </>
        }
      />
      <FormAlert errors={state.errors} />
      <form method="post" action={`${self}/restore`} class="card form">
        <h2>Into a new volume</h2>
        <input type="hidden" name="snapshot" value={s.id} />
        <input type="hidden" name="kind" value="new" />
        <TextField
          {...p}
          name="volume"
          label="New volume"
          required
          hint="Created on the same host; nothing else changes."
        />
        <div class="actions">
          <button class="btn btn-primary" type="submit">Restore into a new volume</button>
        </div>
      </form>
      <form method="post" action={`${self}/restore`} class="card form confirm">
        <h2>Back into {v.name}</h2>
        <p>
          Its containers{v.row?.app_id ? " (the app)" : ""}{" "}
          are stopped first, the volume is emptied and filled from the snapshot, then they start
          again. What was written since the snapshot is lost.
        </p>
        <input type="hidden" name="snapshot" value={s.id} />
        <input type="hidden" name="kind" value="same" />
        <TextField
          {...p}
          values={{}}
          name="confirm"
          label={`Type ${v.name} to confirm`}
          required
          autocomplete="off"
        />
        <div class="actions">
          <button class="btn btn-danger" type="submit">Replace the volume's data</button>
          <a class="btn" href={self}>Cancel</a>
        </div>
      </form>
    </>,
    { title: "Restore a snapshot", active: "storage", status: state.errors ? 400 : 200 },
  );
}
