/**
 * The organization's secrets as the app form offers them: names and kinds, never values. The
 * form checks a chosen name against them only when it saw them all.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { orgScopeOf } from "../../../../lib/http/context.ts";
import type { SecretChoice } from "../../../../components/AppSecretsFields.tsx";

/** Secrets a select offers at most (more are attached through the API). */
const MAX_CHOICES = 1000;
const PAGE = 200;

/** The organization's secrets by name, and whether that is all of them. */
export async function secretChoices(
  c: AppContext,
): Promise<{ choices: SecretChoice[]; known?: Record<string, "text" | "binary"> }> {
  const orgId = orgScopeOf(c).org.id;
  const choices: SecretChoice[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await c.var.services.secrets.list(orgId, { after, limit: PAGE });
    choices.push(...page.map((s) => ({ name: s.name, kind: s.kind })));
    if (page.length < PAGE) {
      return { choices, known: Object.fromEntries(choices.map((s) => [s.name, s.kind])) };
    }
    if (choices.length >= MAX_CHOICES) return { choices };
    after = page.at(-1)!.name;
  }
}

/** `/o/<slug>/secrets`. */
export function secretsHrefOf(c: AppContext): string {
  return `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/secrets`;
}
