/** Table types of the templates module (its migration: lib/templates/migration.ts). */

/** A template an organization saved (YAML source; built-ins live in templates/*.yml). */
export interface OrgTemplatesTable {
  id: string;
  org_id: string;
  /** The template's own id (its `id:`), unique in the organization. */
  template_id: string;
  name: string;
  category: string;
  version: string;
  source: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export type ProvisionStatus = "provisioning" | "ready" | "failed";

/**
 * One provisioning of a template: which app it made, where it stands, what it created (so a
 * failure takes back exactly that, and a deprovision knows the template's secrets and route).
 */
export interface TemplateProvisionsTable {
  id: string;
  org_id: string;
  template_id: string;
  template_version: string;
  /** builtin or org (an org template's row id in `source_ref`). */
  source: "builtin" | "org";
  source_ref: string | null;
  app_name: string;
  app_id: string | null;
  domain: string | null;
  status: ProvisionStatus;
  /** The step running or the one that failed. */
  step: string;
  error: string | null;
  /** JSON: what was created — { secrets: string[], route_id?: string, volumes: string[] }. */
  created: string;
  /** JSON: the non-secret variable values. */
  values_json: string;
  /** JSON: the steps with their outcome, for the progress page. */
  steps: string;
  created_by: string | null;
  created_at: number;
  finished_at: number | null;
}

/** The templates module's tables, merged into the database type by lib/db/schema.ts. */
export interface TemplatesTables {
  org_templates: OrgTemplatesTable;
  template_provisions: TemplateProvisionsTable;
}
