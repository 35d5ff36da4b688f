import type { VolumeView } from "../lib/hosts/docker_views.ts";
import { formatBytes } from "../lib/hosts/view.ts";
import { UsedBy } from "./NetworksTable.tsx";
import { Time } from "./Time.tsx";

/** A host's volumes with the containers using each; sizes only when they were asked for. */
export function VolumesTable(
  { volumes, sizes, removeHref }: {
    volumes: VolumeView[];
    sizes: boolean;
    removeHref?: (name: string) => string;
  },
) {
  return (
    <div class="table-wrap">
      <table class="table-cards sticky-actions">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Driver</th>
            {sizes && <th scope="col" class="num">Size</th>}
            <th scope="col">In use by</th>
            <th scope="col">Mountpoint</th>
            <th scope="col">Created</th>
            {removeHref && (
              <th scope="col" class="actions-col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {volumes.map((v) => (
            <tr key={v.name}>
              <td class="cell-container card-title">
                <code>{v.name}</code>
              </td>
              <td data-label="Driver">{v.driver}</td>
              {sizes && <td data-label="Size" class="num nowrap">{formatBytes(v.size)}</td>}
              <td data-label="In use by">
                <UsedBy users={v.containers} />
              </td>
              <td data-label="Mountpoint" class="cell-path">
                <code>{v.mountpoint}</code>
              </td>
              <td data-label="Created" class="nowrap">
                <Time ms={v.created} />
              </td>
              {removeHref && (
                <td class="actions-cell">
                  <a class="btn btn-small btn-danger-ghost" href={removeHref(v.name)}>
                    Remove<span class="visually-hidden">{v.name}</span>
                  </a>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
