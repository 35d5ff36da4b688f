import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import TestCounter from "./testdata/_TestCounter.tsx";
import { collectIslands, island, serializeProps } from "./island.tsx";
import type { IslandName } from "./registry.ts";
import { testIsland } from "./test_islands.ts";

const Counter = testIsland("_TestCounter", TestCounter);

/** Decodes the few entities preact-render-to-string uses in attribute values. */
function unescapeAttr(value: string): string {
  return value.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

Deno.test("island() renders a capstan-island marker around the server-rendered component", () => {
  const html = renderToString(<Counter start={3} label="Clicks" />);
  assert.match(
    html,
    /^<capstan-island data-island="_TestCounter" data-props="[^"]*" style="display:contents">/,
  );
  assert.match(html, /<\/capstan-island>$/);
  // The component itself rendered inside, signal value included.
  assert.match(html, /<button type="button" class="test-counter">Clicks: <span[^>]*>3<\/span>/);
  const props = JSON.parse(unescapeAttr(html.match(/data-props="([^"]*)"/)![1]));
  assert.deepEqual(props, { start: 3, label: "Clicks" });
});

Deno.test("island() escapes props so </script> and quotes cannot break out of the attribute", () => {
  const label = `</script><script>alert("x")</script> it's & "quoted" <!--`;
  const html = renderToString(<Counter start={1} label={label} />);
  const attrs = [...html.matchAll(/data-props="([^"]*)"/g)];
  assert.equal(attrs.length, 1);
  assert.ok(!attrs[0][1].includes("<"), "no raw < inside the attribute");
  assert.deepEqual(JSON.parse(unescapeAttr(attrs[0][1])), { start: 1, label });
  assert.ok(!html.includes("<script"), "no script element was injected");
});

Deno.test("island() refuses props that are not JSON-serialisable, naming the prop", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ onClick: () => {} }, /prop "onClick" is a function/],
    [{ when: new Date(0) }, /prop "when" is a Date instance/],
    [{ n: NaN }, /prop "n" is NaN/],
    [{ big: 1n }, /prop "big" is a bigint/],
    [{ list: [1, undefined] }, /prop "list\[1\]" is undefined/],
    [{ deep: { a: [{ f: Symbol("x") }] } }, /prop "deep\.a\[0\]\.f" is a symbol/],
    [{ m: new Map() }, /prop "m" is a Map instance/],
  ];
  for (const [props, message] of cases) {
    assert.throws(() => serializeProps("X", props), message);
  }
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => serializeProps("X", { loop }), /circular/);
  assert.throws(() => serializeProps("X", { children: "hi" }), /children are not supported/);
  // Through rendering too, with the island's name in the message.
  const Loose = testIsland("_TestCounter", (_: { cb: () => void }) => null);
  assert.throws(
    () => renderToString(<Loose cb={() => {}} />),
    /Cannot render island "_TestCounter": prop "cb" is a function; island props must be JSON-serialisable/,
  );
});

Deno.test("island() drops undefined object props like JSON does, and accepts null-prototype objects", () => {
  assert.equal(serializeProps("X", { a: undefined, b: null }), '{"b":null}');
  const bare = Object.assign(Object.create(null), { k: 1 });
  assert.equal(serializeProps("X", { bare }), '{"bare":{"k":1}}');
});

Deno.test("island() refuses a name missing from the registry", () => {
  assert.throws(
    () => island("Nope" as IslandName, TestCounter),
    /Cannot use island "Nope": it is not registered in lib\/islands\/registry.ts/,
  );
});

Deno.test("collectIslands() records outermost islands only, and unwinds on errors", () => {
  const Outer = testIsland(
    "_TestCounter",
    (_: { start: number }) => <Counter start={2} label="in" />,
  );
  const { result, islands } = collectIslands(() => renderToString(<Outer start={1} />));
  assert.deepEqual([...islands], ["_TestCounter"]);
  assert.equal(result.match(/<capstan-island/g)?.length, 2, "nested marker still rendered");

  const Boom = () => {
    throw new Error("boom");
  };
  assert.throws(() =>
    collectIslands(() =>
      renderToString(
        <div>
          <Counter start={1} label="x" />
          <Boom />
        </div>,
      )
    )
  );
  // The failed render's collector was popped: a fresh one sees nothing.
  const after = collectIslands(() => renderToString(<p>plain</p>));
  assert.equal(after.islands.size, 0);
});
