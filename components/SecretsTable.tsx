import type { ComponentChildren } from "preact";
import type { SecretView } from "../lib/secrets/service.ts";
import { Time } from "./Time.tsx";

/** One secret of the list and how its cells render. */
export interface SecretRow {
  secret: SecretView;
  href: string;
  /** Who changed it last. */
  updatedBy: string;
  /** The apps that use it, with how (the page renders their links). */
  usedBy: ComponentChildren;
}

/**
 * The organization's secrets: name and description, kind, current version, last change and the
 * apps that use it — never a value. One card per secret on phones.
 */
export function SecretsTable({ rows }: { rows: SecretRow[] }) {
  return (
    <div class="table-wrap">
      <table class="secrets-table table-cards">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col" class="num">Version</th>
            <th scope="col">Updated</th>
            <th scope="col">Used by</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ secret: s, href, updatedBy, usedBy }) => (
            <tr key={s.id} data-secret-row={s.name}>
              <td class="card-title">
                <a href={href}>
                  <code>{s.name}</code>
                </a>
                {s.description && <div class="muted small secret-description">{s.description}</div>}
              </td>
              <td data-label="Kind">{s.kind}</td>
              <td class="num" data-label="Version">{s.current_version}</td>
              <td data-label="Updated">
                <div>
                  <span class="nowrap">
                    <Time ms={s.updated_at} />
                  </span>
                  <div class="muted small">by {updatedBy}</div>
                </div>
              </td>
              <td data-label="Used by">
                {s.used_by.length ? usedBy : <span class="muted">no app</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
