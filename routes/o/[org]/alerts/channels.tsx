import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { CHANNEL_KINDS, type ChannelKind } from "../../../../lib/alerts/channels/config.ts";
import type { ChannelView } from "../../../../lib/alerts/channels/store.ts";
import { ONE_LINE } from "../../../../lib/alerts/schema.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { ChannelsTable } from "../../../../components/ChannelsTable.tsx";
import { CHANNEL_LABELS, ChannelForm } from "../../../../components/ChannelForm.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { ConfirmAction } from "../../../../components/ConfirmAction.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import {
  errorsOf,
  type FieldErrors,
  formError,
  type FormValues,
  queryValues,
  readForm,
} from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";

const Name = z.string().trim().min(1, "is required").max(100).regex(ONE_LINE, "must be one line");
const channelsPath = (slug: string) => `/o/${encodeURIComponent(slug)}/alerts/channels`;
const kindOf = (v: unknown): ChannelKind =>
  CHANNEL_KINDS.includes(v as ChannelKind) ? v as ChannelKind : "webhook";

/** The form's config fields → the API's config; blank fields are left out (defaults, or kept). */
function configOf(kind: ChannelKind, v: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (k: string, val: unknown) => {
    if (typeof val === "string" ? val.trim() !== "" : val !== undefined) out[k] = val;
  };
  if (kind !== "email") put("url", v.url?.trim());
  if (kind === "webhook") put("secret", v.secret);
  if (kind === "email") {
    put("host", v.host?.trim());
    if (v.port?.trim()) out.port = Number(v.port);
    put("security", v.security);
    put("username", v.username?.trim());
    put("password", v.password);
    put("from", v.from?.trim());
    if (v.to?.trim()) out.to = v.to.split(",").map((s) => s.trim()).filter(Boolean);
  }
  return out;
}

/** The API's `config.to.0` → the form's `to`. */
function fieldErrors(fields: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, msg] of Object.entries(fields)) {
    out[k.replace(/^config\./, "").replace(/\.\d+$/, "")] ??= msg;
  }
  return out;
}

/** Form values of a stored channel: its shown hints, never its secrets. */
function channelValues(ch: ChannelView): FormValues {
  const v: FormValues = { name: ch.name };
  if (ch.enabled) v.enabled = "on";
  if (ch.kind === "email") {
    const h = ch.hints as Record<string, unknown>;
    v.host = String(h.host ?? "");
    v.port = String(h.port ?? "");
    v.security = String(h.security ?? "starttls");
    v.username = h.username ? String(h.username) : "";
    v.from = String(h.from ?? "");
    v.to = Array.isArray(h.to) ? h.to.join(", ") : "";
  }
  return v;
}

/** The channels list, optionally with the result of a test send. */
async function listPage(
  c: AppContext,
  test?: { name: string; status: "sent" | "failed"; error: string | null },
) {
  const { org } = orgScopeOf(c);
  const channels = await c.var.services.alerts.channels.list(org.id);
  const base = channelsPath(org.slug);
  return render(
    c,
    <>
      <PageHeader title="Channels" sub={<>{org.name} · where notifications are sent</>}>
        <a class="btn btn-primary" href={`${base}/new`}>New channel</a>
      </PageHeader>
      {test && (
        <Alert kind={test.status === "sent" ? "ok" : "error"}>
          {test.status === "sent"
            ? `Test notification sent to "${test.name}".`
            : `Test to "${test.name}" failed: ${test.error ?? "unknown error"}`}
        </Alert>
      )}
      {channels.length
        ? <ChannelsTable channels={channels} base={base} />
        : (
          <EmptyState title="No channels yet">
            <p>
              Alerts show in Notifications; add a channel to be told as well: a Slack or Discord
              webhook, a signed JSON webhook, or email over SMTP.
            </p>
            <p>
              <a class="btn btn-primary" href={`${base}/new`}>New channel</a>
            </p>
          </EmptyState>
        )}
    </>,
    { title: `Channels · ${org.name}`, active: "channels" },
  );
}

/** The kind picker (no JS): one link per kind. */
function kindPicker(c: AppContext) {
  const { org } = orgScopeOf(c);
  const base = channelsPath(org.slug);
  return render(
    c,
    <>
      <PageHeader title="New channel" sub={<a href={base}>← Channels</a>} />
      <section class="card">
        <h2>What kind?</h2>
        <ul class="kind-list">
          {CHANNEL_KINDS.map((k) => (
            <li key={k}>
              <a class="btn" href={`${base}/new?kind=${k}`}>{CHANNEL_LABELS[k]}</a>
            </li>
          ))}
        </ul>
      </section>
    </>,
    { title: "New channel", active: "channels" },
  );
}

/** The create or edit form. */
function formPage(
  c: AppContext,
  o: { kind: ChannelKind; channel?: ChannelView } & FormState,
  status = 200,
) {
  const { org } = orgScopeOf(c);
  const base = channelsPath(org.slug);
  const title = o.channel
    ? `Edit channel "${o.channel.name}"`
    : `New ${CHANNEL_LABELS[o.kind]} channel`;
  return render(
    c,
    <>
      <PageHeader title={title} sub={<a href={base}>← Channels</a>} />
      <ChannelForm
        action={o.channel ? `${base}/${encodeURIComponent(o.channel.id)}/edit` : `${base}/new`}
        kind={o.kind}
        values={o.values}
        errors={o.errors}
        secrets={o.channel?.secrets ?? null}
        submit={o.channel ? "Save channel" : "Create channel"}
        cancelHref={base}
      />
    </>,
    // The form may hold typed-in secrets after an error: keep it out of every cache.
    { title, active: "channels", status, noStore: true },
  );
}

/** Channel pages (admins, like the API): list, create, edit, send test, delete. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/alerts/channels", "org:admin", (c) => listPage(c));

  page(app, "GET", "/o/:org/alerts/channels/new", "org:admin", (c) => {
    const kind = queryValues(c).kind;
    if (!CHANNEL_KINDS.includes(kind as ChannelKind)) return kindPicker(c);
    return formPage(c, {
      kind: kind as ChannelKind,
      values: { enabled: "on", port: "587", security: "starttls" },
    });
  });

  page(app, "POST", "/o/:org/alerts/channels/new", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = await readForm(c);
    const kind = kindOf(values.kind);
    const name = Name.safeParse(values.name ?? "");
    if (!name.success) {
      return formPage(c, { kind, values, errors: { name: name.error.issues[0].message } }, 400);
    }
    try {
      await c.var.services.alerts.channels.create(actionContext(c), org.id, {
        name: name.data,
        kind,
        enabled: values.enabled === "on",
        config: configOf(kind, values),
      });
    } catch (err) {
      const e = formError(err);
      return formPage(c, { kind, values, errors: fieldErrors(errorsOf(e, "name")) }, e.status);
    }
    return seeOther(c, `${channelsPath(org.slug)}?ok=channel_saved`);
  });

  page(app, "GET", "/o/:org/alerts/channels/:id/edit", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const ch = await c.var.services.alerts.channels.get(org.id, c.req.param("id") ?? "");
    return formPage(c, { kind: ch.kind, channel: ch, values: channelValues(ch) });
  });

  page(app, "POST", "/o/:org/alerts/channels/:id/edit", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const ch = await c.var.services.alerts.channels.get(org.id, c.req.param("id") ?? "");
    const values = await readForm(c);
    const state = { kind: ch.kind, channel: ch, values };
    const name = Name.safeParse(values.name ?? "");
    if (!name.success) {
      return formPage(c, { ...state, errors: { name: name.error.issues[0].message } }, 400);
    }
    try {
      await c.var.services.alerts.channels.update(actionContext(c), org.id, ch.id, {
        name: name.data,
        enabled: values.enabled === "on",
        config: configOf(ch.kind, values),
      });
    } catch (err) {
      const e = formError(err);
      return formPage(c, { ...state, errors: fieldErrors(errorsOf(e, "name")) }, e.status);
    }
    return seeOther(c, `${channelsPath(org.slug)}?ok=channel_saved`);
  });

  page(app, "POST", "/o/:org/alerts/channels/:id/test", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const ch = await c.var.services.alerts.channels.get(org.id, c.req.param("id") ?? "");
    const r = await c.var.services.alerts.testChannel(actionContext(c), org.id, ch.id);
    return listPage(c, { name: ch.name, status: r.status, error: r.error });
  });

  page(app, "GET", "/o/:org/alerts/channels/:id/delete", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const ch = await c.var.services.alerts.channels.get(org.id, c.req.param("id") ?? "");
    const base = channelsPath(org.slug);
    return render(
      c,
      <ConfirmAction
        title={`Delete the channel "${ch.name}"?`}
        action={`${base}/${encodeURIComponent(ch.id)}/delete`}
        confirm="Delete channel"
        cancelHref={base}
      >
        <p>
          Nothing more is sent to it, and its delivery records go with it. Rules that name it send
          to their other channels.
        </p>
      </ConfirmAction>,
      { title: "Delete channel", active: "channels" },
    );
  });

  page(app, "POST", "/o/:org/alerts/channels/:id/delete", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    await c.var.services.alerts.channels.remove(actionContext(c), org.id, c.req.param("id") ?? "");
    return seeOther(c, `${channelsPath(org.slug)}?ok=channel_deleted`);
  });
}
