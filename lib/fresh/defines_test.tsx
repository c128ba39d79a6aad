import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import type { VNode } from "preact";
import { defineApp, defineLayout, defineRoute } from "./defines.ts";
import { isAsyncComponent } from "./render.ts";
import type { FreshContext } from "./types.ts";

interface State {
  user: string;
}

function context(state: State): FreshContext<State, void> {
  return { state, url: new URL("http://localhost/x") } as FreshContext<State, void>;
}

Deno.test("[defines] sync and async functions become async components", async () => {
  const sync = defineRoute<State>((_req, ctx) => <p>{ctx.state.user}</p>);
  const slow = defineRoute<State>(async (_req, ctx) => {
    await Promise.resolve();
    return <p>{ctx.url.pathname}</p>;
  });
  const layout = defineLayout<State>((_req, ctx) => <main>{ctx.state.user}</main>);
  const app = defineApp<State>(() => new Response("early"));
  for (const component of [sync, slow, layout, app]) {
    assert.ok(isAsyncComponent(component));
  }
  const req = new Request("http://localhost/x");
  assert.equal(renderToString((await sync(req, context({ user: "ada" }))) as VNode), "<p>ada</p>");
  assert.equal(renderToString((await slow(req, context({ user: "ada" }))) as VNode), "<p>/x</p>");
  assert.equal(
    renderToString((await layout(req, context({ user: "bob" }))) as VNode),
    "<main>bob</main>",
  );
  const early = await app(req, context({ user: "x" }));
  assert.ok(early instanceof Response);
  assert.equal(await early.text(), "early");
});
