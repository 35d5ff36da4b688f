import { type Expression, sql, type SqlBool } from "kysely";

/** Escapes LIKE wildcards so user-typed text matches literally. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => "\\" + c)}%`;
}

/**
 * Case-insensitive "contains" that behaves the same on SQLite (LIKE is case-insensitive, no default
 * escape) and PostgreSQL (LIKE is case-sensitive, backslash escape).
 */
export function containsText(column: string, text: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${likePattern(text)} escape '\\'`;
}
