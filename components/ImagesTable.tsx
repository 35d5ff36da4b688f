import type { ImageView } from "../lib/hosts/docker_views.ts";
import { formatBytes } from "../lib/hosts/view.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** A host's images; admins get a remove link per image (through a confirmation page). */
export function ImagesTable(
  { images, removeHref }: { images: ImageView[]; removeHref?: (ref: string) => string },
) {
  return (
    <div class="table-wrap">
      <table class="table-cards sticky-actions">
        <thead>
          <tr>
            <th scope="col">Tags</th>
            <th scope="col">ID</th>
            <th scope="col" class="num">Size</th>
            <th scope="col">Created</th>
            <th scope="col">In use</th>
            {removeHref && (
              <th scope="col" class="actions-col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {images.map((i) => {
            const short = i.id.replace(/^sha256:/, "").slice(0, 12);
            // One tag: remove that tag. Several or none: remove the image itself, by id.
            const ref = i.tags.length === 1 ? i.tags[0] : short;
            return (
              <tr key={i.id}>
                <td class="cell-tags card-title">
                  {i.tags.length
                    ? i.tags.map((t) => <code key={t}>{t}</code>)
                    : <span class="muted">&lt;none&gt; (dangling)</span>}
                </td>
                <td data-label="ID">
                  <code title={i.id}>{short}</code>
                </td>
                <td data-label="Size" class="num nowrap">{formatBytes(i.size)}</td>
                <td data-label="Created" class="nowrap">
                  <Time ms={i.created} />
                </td>
                <td data-label="In use" class="nowrap">
                  {i.containers > 0
                    ? (
                      <Badge tone="accent">
                        {i.containers} {i.containers === 1 ? "container" : "containers"}
                      </Badge>
                    )
                    : <span class="muted">unused</span>}
                </td>
                {removeHref && (
                  <td class="actions-cell">
                    <a class="btn btn-small btn-danger-ghost" href={removeHref(ref)}>
                      Remove<span class="visually-hidden">{ref}</span>
                    </a>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
