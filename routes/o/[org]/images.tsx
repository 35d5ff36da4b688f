import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { validationError } from "../../../lib/http/errors.ts";
import { island } from "../../../lib/islands/island.tsx";
import { ImageRef } from "../../../lib/protocol/ops.ts";
import { listImages, pruneImages, removeImage } from "../../../lib/hosts/docker_actions.ts";
import type { PullEvent } from "../../../lib/hosts/docker_views.ts";
import { startPull } from "../../../lib/hosts/pull.ts";
import { formatBytes } from "../../../lib/hosts/view.ts";
import PullProgress from "../../../islands/PullProgress.tsx";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { HostId } from "../../_schemas/docker.ts";
import { ImagesTable } from "../../../components/ImagesTable.tsx";
import { ConfirmForm } from "../../../components/ConfirmForm.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { CheckboxField } from "../../../components/Field.tsx";
import { readForm } from "../../_forms.ts";
import { type PageKit, render, seeOther } from "../../_render.tsx";
import { abilities, count, type HostChoice, orgBase, pageError, withFlash } from "./_docker.tsx";
import {
  resourceAction,
  resourcePage,
  type ResourcePageState,
  resourceTarget,
} from "./_host_resource.tsx";
const PullIsland = island("PullProgress", PullProgress);
/** What a page render may carry besides the list: a failed action, the pull form's state. */
interface PageState extends ResourcePageState {
  pull?: { value: string; error: string };
}

/** The images page of one host: pull form, table, prune. */
async function imagesPage(c: AppContext, kit: PageKit, hostId?: string, state: PageState = {}) {
  const { org } = orgScopeOf(c);
  const can = abilities(c);
  const q = (h: HostChoice) => `?host=${encodeURIComponent(h.id)}`;
  return await resourcePage(c, hostId, state, {
    segment: "images",
    title: "Images",
    list: (caller, id) => listImages(c.var.services, caller, id),
    sub: (images) => (
      <>{count(images.length, "image")} · {formatBytes(images.reduce((s, i) => s + i.size, 0))}</>
    ),
    manifest: kit.manifest,
  }, (host, images, path) => {
    const dangling = images.filter((i) => i.dangling).length;
    return (
      <>
        {can.operate && (
          <section class="card">
            <h2>Pull an image</h2>
            <PullIsland
              pullUrl={`/api/v1/orgs/${encodeURIComponent(org.slug)}/hosts/${host.id}/images/pull`}
              formAction={`${path}/pull`}
              host={host.id}
              refreshHref={`${path}${q(host)}`}
              value={state.pull?.value}
              error={state.pull?.error}
            />
          </section>
        )}
        {images.length > 0
          ? (
            <ImagesTable
              images={images}
              removeHref={can.admin
                ? (ref) => `${path}/remove${q(host)}&ref=${encodeURIComponent(ref)}`
                : undefined}
            />
          )
          : (
            <EmptyState title="No images on this host">
              <p>{can.operate ? "Pull one above." : "Members can pull images here."}</p>
            </EmptyState>
          )}
        {can.admin && (
          <p class="page-footer-actions">
            <a class="btn" href={`${path}/prune${q(host)}`}>
              Prune dangling images{dangling ? ` (${dangling})` : ""}
            </a>
          </p>
        )}
      </>
    );
  });
}

const HostQuery = z.object({ host: HostId });
const RefQuery = HostQuery.extend({ ref: ImageRef });

/** Images pages: list (viewers), pull (members), remove and prune (admins, with confirmation). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/images", "org:viewer", (c) => imagesPage(c, kit));

  // Without JS: the pull runs while the browser waits, then the list shows the result.
  page(app, "POST", "/o/:org/images/pull", "org:member", async (c) => {
    const values = await readForm(c);
    const hostId = HostId.safeParse(values.host).success ? values.host : undefined;
    const ref = (values.ref ?? "").trim();
    const fail = (status: number, message: string) =>
      imagesPage(c, kit, hostId, { pull: { value: ref, error: message }, status });
    if (!hostId) throw validationError(HostQuery.safeParse(values).error!);
    const refOk = ImageRef.safeParse(ref);
    if (!refOk.success) return await fail(400, refOk.error.issues[0].message);
    let last: PullEvent | undefined;
    try {
      const pull = await startPull(c.var.services, dockerCaller(c), hostId, ref);
      for await (const e of pull.events) last = e;
    } catch (err) {
      const e = pageError(err);
      return await fail(e.status, e.message);
    }
    if (last?.type === "error") {
      return await fail(last.status < 500 ? last.status : 502, last.message);
    }
    if (last?.type !== "done") return await fail(502, "The pull ended without a result");
    return seeOther(c, withFlash(`${orgBase(c)}/images?host=${hostId}`, "image_pulled"));
  });

  page(app, "GET", "/o/:org/images/remove", "org:admin", async (c) => {
    const query = { host: c.req.query("host"), ref: c.req.query("ref") };
    const { data: t, host } = await resourceTarget(c, RefQuery, query);
    const back = `${orgBase(c)}/images?host=${t.host}`;
    return render(
      c,
      <ConfirmForm
        title={`Remove ${t.ref}?`}
        action={`${orgBase(c)}/images/remove`}
        confirm="Remove"
        cancelHref={back}
        hidden={{ host: t.host, ref: t.ref }}
        options={
          <CheckboxField
            name="force"
            label="Force: remove even if containers use it"
            hint="Stopped containers keep running from the image's layers only until they are removed; running ones keep it anyway."
          />
        }
      >
        <p>
          On{" "}
          <strong>{host.name}</strong>. If other tags point at the same image, only this tag is
          removed. Removal is refused while a container uses the image, unless forced.
        </p>
      </ConfirmForm>,
      { title: "Remove image", active: "images" },
    );
  });

  page(app, "POST", "/o/:org/images/remove", "org:admin", async (c) => {
    const values = await readForm(c);
    const { data: t } = await resourceTarget(c, RefQuery, values);
    return await resourceAction(
      c,
      "images",
      t.host,
      "image_removed",
      () => removeImage(c.var.services, dockerCaller(c), t.host, t.ref, values.force === "on"),
      (error) => imagesPage(c, kit, t.host, { error }),
    );
  });

  page(app, "GET", "/o/:org/images/prune", "org:admin", async (c) => {
    const { data: t, host } = await resourceTarget(c, HostQuery, { host: c.req.query("host") });
    return render(
      c,
      <ConfirmForm
        title={`Prune dangling images on ${host.name}?`}
        action={`${orgBase(c)}/images/prune`}
        confirm="Prune"
        cancelHref={`${orgBase(c)}/images?host=${t.host}`}
        hidden={{ host: t.host }}
      >
        <p>
          Removes every image without a tag that no container uses (left behind by pulls and builds
          of newer versions). Tagged images are kept.
        </p>
      </ConfirmForm>,
      { title: "Prune images", active: "images" },
    );
  });

  page(app, "POST", "/o/:org/images/prune", "org:admin", async (c) => {
    const { data: t } = await resourceTarget(c, HostQuery, await readForm(c));
    return await resourceAction(
      c,
      "images",
      t.host,
      "images_pruned",
      () => pruneImages(c.var.services, dockerCaller(c), t.host),
      (error) => imagesPage(c, kit, t.host, { error }),
    );
  });
}
