/**
 * Compose's variable interpolation (`${VAR}`, `${VAR:-default}`, `$VAR`, `$$`) without an
 * environment: Capstan has no `.env` file or shell to read, so every variable is unset. A
 * default (`:-` or `-`) is used, `:+`/`+` give nothing, and a variable with neither (or a
 * required one, `:?`) is reported by name for the user to write the value into the file.
 */

/** The text with what could be resolved, and the variables that could not. */
export interface Interpolation {
  value: string;
  /** Variables without a default, in the order met. */
  unset: string[];
  /** Why the text is not valid interpolation syntax (an unclosed `${`), if it is not. */
  error?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string value of a Compose file. */
export function interpolate(text: string): Interpolation {
  const unset: string[] = [];
  try {
    return { value: expand(text, unset), unset };
  } catch (err) {
    if (err instanceof SyntaxError) return { value: text, unset, error: err.message };
    throw err;
  }
}

function expand(text: string, unset: string[]): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "{") {
      const end = closingBrace(text, i + 2);
      out += braced(text.slice(i + 2, end), unset);
      i = end + 1;
    } else {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (name) {
        unset.push(name);
        i += 1 + name.length;
      } else {
        // A lone `$` (before a space, a digit, the end) is text, as in Compose.
        out += "$";
        i++;
      }
    }
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from` (bodies may nest `${…}`). */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "$" && text[i + 1] === "$") {
      i++;
    } else if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      i++;
    } else if (text[i] === "}" && --depth === 0) {
      return i;
    }
  }
  throw new SyntaxError(`"\${" is not closed`);
}

/** The value of `${body}` with every variable unset. */
function braced(body: string, unset: string[]): string {
  const name = NAME.exec(body)?.[0];
  if (!name) throw new SyntaxError(`"\${${body}}" does not start with a variable name`);
  const rest = body.slice(name.length);
  if (rest === "") {
    unset.push(name);
    return "";
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new SyntaxError(`"\${${body}}" is not a known form of interpolation`);
  const word = rest.slice(op.length);
  switch (op) {
    case ":-":
    case "-":
      return expand(word, unset);
    case ":+":
    case "+":
      return "";
    default:
      // `${VAR:?message}`: Compose stops when VAR is unset; so do we, naming VAR.
      unset.push(name);
      return "";
  }
}
