import type { Db } from "../db/mod.ts";
import type { UsersTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict } from "../errors.ts";
import { hashPassword } from "./password.ts";

export type User = Omit<UsersTable, "password_hash">;

const PUBLIC_COLUMNS = [
  "id",
  "email",
  "name",
  "is_admin",
  "created_at",
  "password_changed_at",
] as const;

/** User accounts. Password hashes never leave this module except to the sign-in check. */
export function createUsers(db: Db, clock: Clock) {
  return {
    /** Creates a user; 409 when the email is taken. */
    async create(
      input: { email: string; name: string; password: string; isAdmin?: boolean },
    ): Promise<User> {
      const existing = await db.selectFrom("users").select("id").where("email", "=", input.email)
        .executeTakeFirst();
      if (existing) {
        throw new Conflict(`Cannot create user "${input.email}": email is already in use`);
      }
      const now = clock.now();
      const row: UsersTable = {
        id: uuidv7(now),
        email: input.email,
        name: input.name,
        password_hash: await hashPassword(input.password),
        is_admin: input.isAdmin ? 1 : 0,
        created_at: now,
        password_changed_at: now,
      };
      await db.insertInto("users").values(row).execute();
      const { password_hash: _, ...user } = row;
      return user;
    },

    async byId(id: string): Promise<User | undefined> {
      return await db.selectFrom("users").select(PUBLIC_COLUMNS).where("id", "=", id)
        .executeTakeFirst();
    },

    async byEmail(email: string): Promise<User | undefined> {
      return await db.selectFrom("users").select(PUBLIC_COLUMNS).where("email", "=", email)
        .executeTakeFirst();
    },

    /** The stored hash for a sign-in check, or undefined for an unknown email. */
    async credentials(email: string): Promise<{ id: string; password_hash: string } | undefined> {
      return await db.selectFrom("users").select(["id", "password_hash"]).where("email", "=", email)
        .executeTakeFirst();
    },

    async setPassword(id: string, password: string): Promise<void> {
      await db.updateTable("users").set({
        password_hash: await hashPassword(password),
        password_changed_at: clock.now(),
      })
        .where("id", "=", id).execute();
    },

    async setAdmin(id: string, isAdmin: boolean): Promise<void> {
      await db.updateTable("users").set({ is_admin: isAdmin ? 1 : 0 }).where("id", "=", id)
        .execute();
    },

    async count(): Promise<number> {
      const r = await db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async list(limit = 100, offset = 0): Promise<User[]> {
      return await db.selectFrom("users").select(PUBLIC_COLUMNS).orderBy("email").limit(limit)
        .offset(offset).execute();
    },
  };
}

export type Users = ReturnType<typeof createUsers>;
