/**
 * The one way a container reference (a name, a full id or a short id) is resolved against a host's
 * container cache, in Docker's order: a full id, then a name, then an id prefix of 12 to 64 hex
 * digits that only one container has. A prefix that several containers share is refused, as the
 * engine refuses it, rather than guessed.
 */
import type { Db } from "../db/mod.ts";
import { Invalid } from "../errors.ts";

/** What a short or full container id looks like (DESIGN §5: ids are 12 to 64 hex digits). */
export const CONTAINER_ID_PREFIX = /^[a-f0-9]{12,64}$/;

/** A cached container a reference resolved to. */
export interface ContainerMatch {
  id: string;
  name: string;
  state: string;
  updated_at: number;
}

/**
 * The cached container `ref` points at on one host of the organization, or undefined when none
 * does; Invalid (a 400 naming `container`) when `ref` is an id prefix of more than one.
 */
export async function findCachedContainer(
  db: Db,
  orgId: string,
  hostId: string,
  ref: string,
): Promise<ContainerMatch | undefined> {
  const base = () =>
    db.selectFrom("containers").select(["id", "name", "state", "updated_at"])
      .where("org_id", "=", orgId).where("host_id", "=", hostId);
  const match = (r: ContainerMatch) => ({ ...r, updated_at: Number(r.updated_at) });
  // A LIKE prefix only for hex ids: names may contain "_", which LIKE reads as a wildcard.
  const byId = CONTAINER_ID_PREFIX.test(ref)
    ? await base().where("id", "like", `${ref}%`).limit(2).execute()
    : [];
  const exact = byId.find((r) => r.id === ref);
  if (exact) return match(exact);
  // Names are cached without Docker's leading "/"; a reference may carry it.
  const name = ref.replace(/^\//, "");
  const named = await base().where((eb) =>
    eb.or([eb("name", "=", name), eb("name", "=", `/${name}`)])
  )
    .limit(1).executeTakeFirst();
  if (named) return match(named);
  if (byId.length > 1) {
    throw new Invalid(`Container "${ref}" is ambiguous`, {
      container: "matches more than one container; give the full id",
    });
  }
  return byId[0] && match(byId[0]);
}
