/** Whether an error is a unique-key violation (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: string; message?: string };
  return e?.code === "23505" || e?.errcode === "23505" ||
    /UNIQUE constraint failed/i.test(e?.message ?? "");
}
