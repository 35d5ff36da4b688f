import type { Hono } from "hono";
import { requirePlatformAdmin, settingsTabs } from "./[panel].tsx";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { ProxySettings } from "../../../../lib/proxy/store.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { Time } from "../../../../components/Time.tsx";
import {
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../components/Field.tsx";
import { TextAreaField } from "../../../../components/TextAreaField.tsx";
import { errorsOf, type FieldErrors, type FormValues, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { actionError } from "../apps/_app.tsx";

const PATH = "/o/:org/settings/proxy";
const LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

const selfOf = (c: AppContext) => `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/settings/proxy`;

/** The form's values of the stored settings. */
function settingsValues(s: ProxySettings): FormValues {
  const ca = !s.acme_ca ? "letsencrypt" : s.acme_ca === LE_STAGING ? "staging" : "custom";
  return {
    provider: s.provider,
    default_domain: s.default_domain ?? "",
    default_tls: s.default_tls,
    acme_email: s.acme_email ?? "",
    acme_ca_choice: ca,
    acme_ca: ca === "custom" ? s.acme_ca ?? "" : "",
    ingress_addresses: [...s.ingress.ipv4, ...s.ingress.ipv6].join("\n"),
    ingress_cname: s.ingress.cname ?? "",
    traefik_dir: s.traefik_dir ?? "",
    traefik_cert_resolver: s.traefik_cert_resolver ?? "",
  };
}

/** The service's input of the form's values: blank clears, addresses split by family. */
function settingsInput(v: FormValues) {
  const blank = (k: string) => (v[k] ?? "").trim() || null;
  const addresses = (v.ingress_addresses ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  const choice = v.acme_ca_choice;
  return {
    provider: v.provider,
    default_domain: blank("default_domain"),
    default_tls: v.default_tls,
    acme_email: blank("acme_email"),
    acme_ca: choice === "staging" ? LE_STAGING : choice === "custom" ? blank("acme_ca") : null,
    ingress: {
      ipv4: addresses.filter((a) => !a.includes(":")),
      ipv6: addresses.filter((a) => a.includes(":")),
      ...(blank("ingress_cname") ? { cname: blank("ingress_cname") } : {}),
    },
    traefik_dir: blank("traefik_dir"),
    traefik_cert_resolver: blank("traefik_cert_resolver"),
  };
}

/** The service's `ingress.ipv4.0`-style fields on the form's fields. */
function settingsErrorsOf(fields: Record<string, string>): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, msg] of Object.entries(fields)) {
    const field = path.startsWith("ingress.cname")
      ? "ingress_cname"
      : path.startsWith("ingress")
      ? "ingress_addresses"
      : path === "acme_ca"
      ? "acme_ca"
      : path.split(".")[0];
    out[field] ??= msg;
  }
  return out;
}

/** The last load at the ingress and whether one is configured. */
function IngressStatus({ c }: { c: AppContext }) {
  const configured = c.var.services.config.proxy.caddyAdmin;
  const last = c.var.services.ingress.last();
  return (
    <section class="card" aria-labelledby="ingress-title">
      <h2 id="ingress-title">Ingress</h2>
      <dl class="props">
        <dt>Configured</dt>
        <dd data-fact="ingress-configured">
          {configured
            ? (
              <>
                Yes: Caddy's admin API at <code>{configured}</code> (CAPSTAN_CADDY_ADMIN).
              </>
            )
            : "No: set CAPSTAN_CADDY_ADMIN to Caddy's admin API. Routes are kept, nothing is loaded."}
        </dd>
        <dt>Last load</dt>
        <dd data-fact="last-load">
          {last
            ? (
              <>
                <Badge tone={last.ok ? "ok" : "error"}>{last.ok ? "ok" : "error"}</Badge>{" "}
                <Time ms={last.at} seconds />
                {last.error && <div class="small">{last.error}</div>}
              </>
            )
            : <span class="muted">Nothing loaded since the hub started.</span>}
        </dd>
      </dl>
      <form method="post" action={`${selfOf(c)}/regenerate`} class="actions">
        <button class="btn" type="submit">Regenerate all</button>
        <a class="btn" href="/api/v1/proxy/caddyfile" download="Caddyfile">
          Download as a Caddyfile
        </a>
      </form>
      <p class="hint">
        Renders every route again and loads it, even when nothing changed (after a restart of the
        ingress).
      </p>
    </section>
  );
}

/** The settings form. */
function SettingsForm({ c, form }: { c: AppContext; form: FormState }) {
  const common = { values: form.values, errors: form.errors, idPrefix: "px" };
  return (
    <form method="post" action={selfOf(c)} class="card form stack" aria-labelledby="px-title">
      <h2 id="px-title">Domains and certificates</h2>
      <FormAlert errors={form.errors} />
      <div class="grid-2">
        <SelectField
          name="provider"
          label="Provider"
          options={[
            { value: "caddy", label: "Caddy (loaded through its admin API)" },
            { value: "traefik", label: "Traefik (file provider)" },
          ]}
          hint="Caddy: Capstan loads every route into it. Traefik (one you run): Capstan writes one YAML file per organization to the directory below, and loads nothing."
          {...common}
        />
        <TextField
          name="default_domain"
          label="Default domain"
          placeholder="apps.example.com"
          hint={
            <>
              Apps get{" "}
              <code>&lt;app&gt;-&lt;org&gt;.</code>this domain; point a wildcard record at the
              ingress. Blank: none.
            </>
          }
          {...common}
        />
        <SelectField
          name="default_tls"
          label="Default certificates"
          options={[
            { value: "acme", label: "ACME (Let's Encrypt or the CA below)" },
            { value: "internal", label: "Internal CA (Caddy's own)" },
          ]}
          {...common}
        />
        <TextField
          name="acme_email"
          label="ACME e-mail"
          type="email"
          hint="The CA writes here about expiring certificates."
          {...common}
        />
        <SelectField
          name="acme_ca_choice"
          label="ACME CA"
          options={[
            { value: "letsencrypt", label: "Let's Encrypt" },
            { value: "staging", label: "Let's Encrypt staging (untrusted, for trials)" },
            { value: "custom", label: "Another CA (URL below)" },
          ]}
          {...common}
        />
        <TextField
          name="acme_ca"
          label="ACME directory URL"
          placeholder="https://acme.example.com/directory"
          hint="With Another CA only."
          {...common}
        />
        <TextAreaField
          name="ingress_addresses"
          label="Ingress addresses"
          placeholder={`203.0.113.10\n2001:db8::10`}
          hint="The public IPv4 and IPv6 addresses of the ingress, one per line: the A and AAAA records users create."
          {...common}
        />
        <TextField
          name="ingress_cname"
          label="Ingress name"
          placeholder="ingress.example.com"
          hint="Optional: a name resolving to the ingress, offered as the CNAME target for subdomains."
          {...common}
        />
        <TextField
          name="traefik_dir"
          label="Traefik output directory"
          placeholder="/etc/traefik/dynamic"
          hint="With Traefik: where the dynamic configuration is written (its file provider's directory)."
          {...common}
        />
        <TextField
          name="traefik_cert_resolver"
          label="Traefik certificate resolver"
          placeholder="letsencrypt"
          hint="With Traefik: the resolver of its static configuration that ACME hostnames use."
          {...common}
        />
      </div>
      <div class="actions">
        <button class="btn btn-primary" type="submit">Save</button>
      </div>
    </form>
  );
}

/** The panel, with a refused form's input and messages. */
async function proxyPage(c: AppContext, form?: FormState, status = 200, notice?: string) {
  const settings = await c.var.services.proxy.store.settings();
  const done = c.req.query("done");
  return render(
    c,
    <>
      <PageHeader title="Settings" sub="Proxy" />
      {settingsTabs(c, "proxy")}
      {done === "saved" && <Alert kind="ok">Proxy settings saved and loaded.</Alert>}
      {done === "regenerated" && <Alert kind="ok">Every route was rendered and loaded.</Alert>}
      {notice && <Alert kind="error">{notice}</Alert>}
      <SettingsForm c={c} form={form ?? { values: settingsValues(settings) }} />
      <IngressStatus c={c} />
    </>,
    { title: "Proxy · Settings", active: "settings", status },
  );
}

/** `/o/:org/settings/proxy` (platform admins): the install's proxy settings and reloads. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:viewer", (c) => {
    requirePlatformAdmin(c);
    return proxyPage(c);
  });

  page(app, "POST", PATH, "org:viewer", async (c) => {
    requirePlatformAdmin(c);
    const values = await readForm(c);
    if (values.acme_ca_choice === "custom" && !values.acme_ca?.trim()) {
      return await proxyPage(c, {
        values,
        errors: { acme_ca: "is required with Another CA" },
      }, 400);
    }
    let outcome;
    try {
      outcome = await c.var.services.proxy.saveSettings(actionContext(c), settingsInput(values));
    } catch (err) {
      const e = actionError(err);
      const errors = e.fields && Object.keys(e.fields).length
        ? settingsErrorsOf(e.fields)
        : errorsOf(e);
      return await proxyPage(c, { values, errors }, e.status);
    }
    if (!outcome.applied.ok) {
      return await proxyPage(
        c,
        undefined,
        200,
        `Saved, but the ingress did not load it: ${outcome.applied.error ?? "no reason given"}`,
      );
    }
    return seeOther(c, `${selfOf(c)}?done=saved`);
  });

  page(app, "POST", `${PATH}/regenerate`, "org:viewer", async (c) => {
    requirePlatformAdmin(c);
    const outcome = await c.var.services.proxy.regenerate(actionContext(c));
    if (!outcome.ok) {
      return await proxyPage(c, undefined, 200, `The ingress did not load: ${outcome.error}`);
    }
    return seeOther(c, `${selfOf(c)}?done=regenerated`);
  });
}
