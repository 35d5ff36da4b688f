/** Reading a server-rendered form back in page tests: input values, textareas, field messages. */

/** The value of the input `name` in a page. */
export function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html);
  return m ? /value="([^"]*)"/.exec(m[0])?.[1] : undefined;
}

/** Whether the checkbox `name` is checked. */
export function isChecked(html: string, name: string): boolean {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html);
  return Boolean(m && /\bchecked\b/.test(m[0]));
}

/** The text of the textarea `name`. */
export function textareaValue(html: string, name: string): string | undefined {
  return new RegExp(`<textarea[^>]*name="${name}"[^>]*>([^<]*)</textarea>`).exec(html)?.[1];
}

/** Text of HTML as the browser shows it (the entities the renderer writes). */
export const unescape = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The message under field `name` of a form whose ids start with `prefix`. */
export function fieldError(html: string, name: string, prefix: string): string | undefined {
  const m = new RegExp(`id="${prefix}-${name}-error">([^<]*)<`).exec(html)?.[1];
  return m === undefined ? undefined : unescape(m);
}
