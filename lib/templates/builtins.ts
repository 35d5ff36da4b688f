/**
 * The built-in templates: every `templates/*.yml` of the repository, shipped and versioned with
 * Capstan. A built-in that does not parse is a bug in Capstan, so loading fails loudly, naming the
 * file, line and problem.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTemplate, type Template } from "./format.ts";

const DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

let cache: Promise<{ template: Template; source: string }[]> | undefined;

async function load(): Promise<{ template: Template; source: string }[]> {
  const out: { template: Template; source: string }[] = [];
  const files: string[] = [];
  for await (const e of Deno.readDir(DIR)) {
    if (e.isFile && e.name.endsWith(".yml")) files.push(e.name);
  }
  for (const f of files.sort()) {
    const source = await Deno.readTextFile(join(DIR, f));
    const r = parseTemplate(source);
    if (!r.template) {
      const p = r.problems[0];
      throw new Error(
        `built-in template ${f}:${p.line}: ${p.path ? `${p.path}: ` : ""}${p.message}`,
      );
    }
    out.push({ template: r.template, source });
  }
  return out;
}

/** Every built-in template, parsed once per process. */
export function builtinTemplates(): Promise<{ template: Template; source: string }[]> {
  return cache ??= load().catch((err) => {
    cache = undefined;
    throw err;
  });
}
