import { type Kysely, PostgresAdapter } from "kysely";

/** Which SQL dialect a Kysely instance speaks (migrations get only the instance). */
// deno-lint-ignore no-explicit-any
export function dialectOf(db: Kysely<any>): "sqlite" | "postgres" {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
}
