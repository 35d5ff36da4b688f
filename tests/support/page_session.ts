/**
 * Pages tests of one organization: the app on a test database, a user per role in "acme" and an
 * owner of another organization, and GET/POST helpers that keep every answer (pages and
 * redirect locations), so a test can search all it was shown for a value that must never appear.
 */
import type { DbHandle } from "../../lib/db/mod.ts";
import { testApp } from "./app.ts";

export async function pageSession(h: DbHandle) {
  const t = testApp(h);
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const eve = await t.user("eve@other.io", { org: "other", role: "owner" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  /** Every answer, to search at the end. */
  const seen: string[] = [];
  const answer = async (res: Response) => {
    const html = await res.text();
    seen.push(html, res.headers.get("location") ?? "");
    return { status: res.status, html, location: res.headers.get("location") };
  };
  const get = async (path: string, cookie: string) => answer(await t.request(path, { cookie }));
  const post = async (path: string, fields: Record<string, string>, cookie: string) =>
    answer(await t.request(path, { method: "POST", body: new URLSearchParams(fields), cookie }));
  return { t, s, org, admin, member, viewer, eve, get, post, answer, seen };
}
