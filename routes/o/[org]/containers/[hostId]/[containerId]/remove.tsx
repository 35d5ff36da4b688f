import type { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, orgScopeOf } from "../../../../../../lib/http/context.ts";
import { dockerCaller } from "../../../../../../lib/http/callers.ts";
import { HttpError } from "../../../../../../lib/http/errors.ts";
import { page } from "../../../../../../lib/http/pages.ts";
import type { HealthCheckView } from "../../../../../../lib/health/rows.ts";
import {
  CHECKS_ON_REMOVE,
  removeContainerWithChecks,
  waitForContainer,
} from "../../../../../../lib/hosts/container_use_cases.ts";
import { HealthBadge, KIND_LABELS } from "../../../../../../components/HealthBadge.tsx";
import { ConfirmForm } from "../../../../../../components/ConfirmForm.tsx";
import { CheckboxField } from "../../../../../../components/Field.tsx";
import { parseForm, readForm } from "../../../../../_forms.ts";
import { type PageKit, render, seeOther } from "../../../../../_render.tsx";
import { backTo, orgBase, pageError, withFlash } from "../../../_docker.tsx";
import { listPage } from "../../index.tsx";
import { ITEM, itemOf } from "./_item.ts";

const RemoveChecksInput = z.object({ checks: z.enum(CHECKS_ON_REMOVE).default("pause") });

/** The remove confirmation's part about the container's health checks: which, and pause or delete. */
function RemoveChecks({ checks, base }: { checks: HealthCheckView[]; base: string }) {
  const manual = checks.filter((k) => k.source === "manual");
  return (
    <fieldset class="remove-checks">
      <legend>
        Its health checks ({checks.length})
      </legend>
      <ul class="plain facts-list">
        {checks.map((k) => (
          <li key={k.id}>
            <HealthBadge id={k.id} state={k.state} enabled={k.enabled} />{" "}
            <a href={`${base}/health/${k.id}`}>{k.name}</a>{" "}
            <span class="muted small">
              {KIND_LABELS[k.kind]}
              {k.source === "label" && " · declared by its labels: goes with the container"}
            </span>
          </li>
        ))}
      </ul>
      {manual.length > 0 && (
        <>
          <div class="field field-check">
            <input id="checks-pause" type="radio" name="checks" value="pause" checked />
            <label for="checks-pause">
              Pause them: keep them and their history, stopped, to enable again if a container of
              this name comes back
            </label>
          </div>
          <div class="field field-check">
            <input id="checks-delete" type="radio" name="checks" value="delete" />
            <label for="checks-delete">Delete them and their history</label>
          </div>
        </>
      )}
    </fieldset>
  );
}

/** Removing a container (members): confirmation with what happens to its health checks, then removal. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", `${ITEM}/remove`, "org:member", async (c) => {
    const { host, name, cached } = await itemOf(c);
    const { org } = orgScopeOf(c);
    const base = orgBase(c);
    const list = `${base}/containers`;
    const running = cached?.state === "running" || cached?.state === "restarting";
    const checks = cached
      ? (await c.var.services.health.service.list(org.id, {
        hostId: host.id,
        containerId: cached.id,
        limit: 50,
      })).items.filter((k) => k.container_id === cached.id)
      : [];
    return render(
      c,
      <ConfirmForm
        title={`Remove ${name}?`}
        action={c.req.path}
        confirm="Remove"
        cancelHref={backTo(c, c.req.query("next"), list)}
        options={
          <>
            <CheckboxField
              name="volumes"
              label="Also remove its anonymous volumes"
              hint="Named volumes are kept either way; remove those on the Volumes page."
            />
            {running && (
              <CheckboxField
                name="force"
                label="It is running: kill it first"
                values={{ force: "on" }}
              />
            )}
            {checks.length > 0 && <RemoveChecks checks={checks} base={base} />}
          </>
        }
      >
        <p>
          The container is deleted from <strong>{host.name}</strong>{" "}
          with its writable layer. This cannot be undone.
        </p>
      </ConfirmForm>,
      { title: "Remove container", active: "containers" },
    );
  });

  page(app, "POST", `${ITEM}/remove`, "org:member", async (c) => {
    const values = await readForm(c);
    const { host, id } = await itemOf(c);
    const { org } = orgScopeOf(c);
    const checks = parseForm(RemoveChecksInput, values);
    if (!checks.ok) {
      throw new HttpError(400, "validation", "Choose whether to pause or delete its health checks");
    }
    try {
      await removeContainerWithChecks(c.var.services, dockerCaller(c), host.id, id, {
        force: values.force === "on",
        volumes: values.volumes === "on",
        checks: checks.data.checks,
      });
    } catch (err) {
      return await listPage(c, kit, pageError(err));
    }
    await waitForContainer(c.var.services, org.id, host.id, id, (x) => x === undefined);
    // Back to the list: the page the removal came from may have been the container's own.
    return seeOther(c, withFlash(`${orgBase(c)}/containers`, "container_removed"));
  });
}
