import type { Kysely } from "kysely";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;

/**
 * Sign-in attempt counters shared by every hub replica (reserved atomically before a password is
 * hashed), and invitations to organizations (adding a member by email reveals nothing about
 * whether an account exists).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.createTable("auth_attempts")
    // SHA-256 of the counter's name (`pair:<email>|<ip>`, `ip:<ip>`, `account:<email>`, `known:…`).
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("count", "integer", (c) => c.notNull())
    // End of the counting window; the row is stale (and purged) after it.
    .addColumn("reset_at", "bigint", (c) => c.notNull())
    // No attempt is accepted before this time (0: any time).
    .addColumn("next_at", "bigint", (c) => c.notNull())
    // Random id of the attempt that last took a slot, so a caller can tell it was accepted.
    .addColumn("nonce", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("auth_attempts_reset").on("auth_attempts").column("reset_at")
    .execute();

  await db.schema.createTable("org_invitations")
    .addColumn(
      "org_id",
      "text",
      (c) => c.notNull().references("organizations.id").onDelete("cascade"),
    )
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("invited_by", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("org_invitations_pk", ["org_id", "email"])
    .execute();
  await db.schema.createIndex("org_invitations_email").on("org_invitations").column("email")
    .execute();
}

/** Drops both tables. */
export async function down(db: AnyDb): Promise<void> {
  for (const t of ["org_invitations", "auth_attempts"]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
