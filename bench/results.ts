/** bench/results.json for a bench run alone: its figures replace theirs, the others stay. */

/** How a bench hands over one figure. */
export type RecordFigure = (name: string, value: number) => void;

/** Runs `bench` with a recorder that merges its figures into results.json, then writes the file. */
export async function recordAlone(bench: (record: RecordFigure) => Promise<void>): Promise<void> {
  const file = new URL("./results.json", import.meta.url);
  const results: { [name: string]: number } = JSON.parse(
    await Deno.readTextFile(file).catch(() => "{}"),
  );
  await bench((name, value) => {
    results[name] = Math.round(value * 100) / 100;
    console.log(`${name.padEnd(40)} ${results[name]}`);
  });
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
  console.log("written bench/results.json");
}
