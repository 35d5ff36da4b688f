import { sql } from "kysely";
import type { DbHandle } from "../../lib/db/mod.ts";

/**
 * Makes the next inserts into metric_dirty fail the way a full disk does on each dialect: SQLite
 * rolls the whole transaction back by itself (RAISE(ROLLBACK), as it does on SQLITE_FULL);
 * PostgreSQL raises disk_full (53100). The fault is on while `metric_fault` has a row.
 */
export async function installMetricsFault(h: DbHandle) {
  await sql`create table metric_fault (x integer)`.execute(h.db);
  if (h.dialect === "sqlite") {
    await sql`create trigger metric_fault_t before insert on metric_dirty
      when (select count(*) from metric_fault) > 0
      begin select raise(rollback, 'database or disk is full'); end`.execute(h.db);
  } else {
    await sql`create function metric_fault_f() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from metric_fault) then
          raise exception 'could not extend file: No space left on device' using errcode = '53100';
        end if;
        return new;
      end $$`.execute(h.db);
    await sql`create trigger metric_fault_t before insert on metric_dirty
      for each row execute function metric_fault_f()`.execute(h.db);
  }
  return {
    on: () => sql`insert into metric_fault (x) values (1)`.execute(h.db),
    off: () => sql`delete from metric_fault`.execute(h.db),
  };
}
