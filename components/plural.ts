/** "1 account", "2 accounts": a count with its noun in the right number (`many` for irregulars). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
