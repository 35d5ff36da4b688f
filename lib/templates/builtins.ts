/**
 * The built-in templates: one YAML file each in `templates/` at the repository root, shipped and
 * versioned with Capstan. They are read once, checked with the same parser as a user's template,
 * and an invalid one is an error that names the file, line and problem: a broken built-in is a
 * bug in Capstan, never something to skip quietly.
 */
import { parseTemplate, type Template } from "./format.ts";

/** A built-in template and its YAML text (shown as the template's source). */
export interface BuiltinTemplate {
  template: Template;
  source: string;
}

/** Where the built-ins live, relative to this module (not to the working directory). */
export const BUILTIN_DIR: URL = new URL("../../templates/", import.meta.url);

let cache: Promise<BuiltinTemplate[]> | undefined;

/** Every built-in template, in file-name order; read and checked once, then cached. */
export function builtinTemplates(): Promise<BuiltinTemplate[]> {
  // A failed read is not cached: the error is thrown again, not remembered as an empty list.
  cache ??= loadBuiltins(BUILTIN_DIR).catch((err) => {
    cache = undefined;
    throw err;
  });
  return cache;
}

/** Reads and checks every `*.yml` in `dir`; throws on the first file with a problem. */
export async function loadBuiltins(dir: URL): Promise<BuiltinTemplate[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".yml")) files.push(entry.name);
  }
  files.sort();
  const out: BuiltinTemplate[] = [];
  for (const file of files) {
    const shown = `templates/${file}`;
    const source = await Deno.readTextFile(new URL(file, dir));
    const parsed = parseTemplate(source);
    if (!parsed.template) {
      const lines = parsed.problems.map((p) =>
        `${shown}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ""}${p.message}`
      );
      throw new Error(`Invalid built-in template ${shown}:\n${lines.join("\n")}`);
    }
    const { id } = parsed.template;
    // The file is named after the id, which also makes two built-ins with one id impossible.
    if (file !== `${id}.yml`) {
      throw new Error(
        `Invalid built-in template ${shown}: its id is "${id}", so name it ${id}.yml`,
      );
    }
    out.push({ template: parsed.template, source });
  }
  return out;
}
