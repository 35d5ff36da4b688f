import type { Organization } from "../lib/orgs/service.ts";
import { Time } from "./Time.tsx";

/** Every organization on the hub (platform admins). */
export function OrgTable({ orgs }: { orgs: Organization[] }) {
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Slug</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {orgs.map((o) => (
            <tr key={o.id}>
              <td class="card-title">
                <a href={`/o/${encodeURIComponent(o.slug)}`}>{o.name}</a>
              </td>
              <td data-label="Slug">
                <code>{o.slug}</code>
              </td>
              <td data-label="Created" class="nowrap">
                <Time ms={o.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
