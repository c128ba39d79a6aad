import assert from "node:assert/strict";
import { options, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { isIsland, registerIslands, type RenderState, RenderStateContext } from "./islands.ts";

function Greeting({ name }: { name: string }) {
  return <b>hi {name}</b>;
}

function Wrapper({ name }: { name: string }) {
  return (
    <i>
      <Greeting name={name} />
    </i>
  );
}

function helper() {
  return "not a component, but exported";
}

registerIslands({
  "./islands/Greeting.tsx": { default: Greeting, helper, VALUE: 1 },
  "./islands/Wrapper.tsx": { Wrapper },
});

function renderPage(vnode: VNode): { html: string; state: RenderState } {
  const state: RenderState = { islands: [] };
  const html = renderToString(
    <RenderStateContext.Provider value={state}>{vnode}</RenderStateContext.Provider>,
  );
  return { html, state };
}

Deno.test("[islands] every exported function of an island module is registered", () => {
  assert.ok(isIsland(Greeting));
  assert.ok(isIsland(Wrapper));
  assert.ok(isIsland(helper));
  assert.ok(!isIsland(renderPage));
});

Deno.test("[islands] islands are wrapped and recorded while a page renders", () => {
  const { html, state } = renderPage(
    <main>
      <Greeting name="a" />
      <p>static</p>
      <Greeting name="b" />
    </main>,
  );
  assert.equal(
    html,
    '<main><frsh-island data-frsh="0"><b>hi a</b></frsh-island>' +
      '<p>static</p><frsh-island data-frsh="1"><b>hi b</b></frsh-island></main>',
  );
  assert.deepEqual(state.islands, [
    { key: "./islands/Greeting.tsx", exportName: "default", props: { name: "a" } },
    { key: "./islands/Greeting.tsx", exportName: "default", props: { name: "b" } },
  ]);
});

Deno.test("[islands] an island inside an island is not wrapped again", () => {
  const { html, state } = renderPage(<Wrapper name="n" />);
  assert.equal(
    html,
    '<frsh-island data-frsh="0"><i><b>hi n</b></i></frsh-island>',
  );
  assert.deepEqual(state.islands.map((i) => i.exportName), ["Wrapper"]);
});

Deno.test("[islands] outside of page rendering islands render as plain components", () => {
  assert.equal(renderToString(<Greeting name="x" />), "<b>hi x</b>");
});

Deno.test("[islands] the vnode hook chains to the hook installed before it", async () => {
  const original = options.vnode;
  const seen: unknown[] = [];
  options.vnode = (vnode) => {
    seen.push(vnode.type);
  };
  try {
    // A second instance of the module installs its hook on top of ours.
    const specifier = new URL("./islands.ts?chain", import.meta.url).href;
    await import(specifier);
    const vnode = <span />;
    assert.equal(vnode.type, "span");
    assert.deepEqual(seen, ["span"]);
  } finally {
    options.vnode = original;
  }
});
