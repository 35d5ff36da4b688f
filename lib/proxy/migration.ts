import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * The reverse proxy: routes of organizations (spec as JSON, status at the proxy), the hostnames
 * they own — one row per hostname in the whole install, so a domain belongs to one route — with
 * their DNS check and certificate state, and the install's proxy settings.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("proxy_routes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("spec", "text", (c) => c.notNull())
    .addColumn("target_app", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("applied_at", "bigint")
    .addColumn("created_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("proxy_routes_org").on("proxy_routes").columns(["org_id", "id"])
    .execute();
  await db.schema.createIndex("proxy_routes_app").on("proxy_routes").column("target_app").execute();

  await db.schema.createTable("proxy_domains")
    .addColumn("hostname", "text", (c) => c.primaryKey())
    .addColumn(
      "route_id",
      "text",
      (c) => c.notNull().references("proxy_routes.id").onDelete("cascade"),
    )
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("dns_status", "text", (c) => c.notNull())
    .addColumn("dns_detail", "text")
    .addColumn("dns_checked_at", "bigint")
    .addColumn("tls_state", "text", (c) => c.notNull())
    .addColumn("tls_detail", "text")
    .addColumn("cert_issuer", "text")
    .addColumn("cert_not_after", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("proxy_domains_route").on("proxy_domains").column("route_id")
    .execute();

  await db.schema.createTable("proxy_settings")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("default_domain", "text")
    .addColumn("default_tls", "text", (c) => c.notNull())
    .addColumn("acme_email", "text")
    .addColumn("acme_ca", "text")
    .addColumn("traefik_dir", "text")
    .addColumn("traefik_cert_resolver", "text")
    // Where custom domains must point (JSON { ipv4, ipv6, cname? }), for their DNS check.
    .addColumn("ingress", "text")
    .addColumn("updated_by", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable("proxy_settings").execute();
  await db.schema.dropTable("proxy_domains").execute();
  await db.schema.dropTable("proxy_routes").execute();
}
