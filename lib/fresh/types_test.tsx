// Compile-time checks: the shapes app code writes against Fresh 1.7 type-check here, and
// a manifest made of them `satisfies Manifest`. The runtime assertions keep it a test.
import assert from "node:assert/strict";
import {
  createHandler,
  defineApp,
  defineLayout,
  defineRoute,
  type FreshContext,
  type Handler,
  type Handlers,
  type Manifest,
  type MiddlewareHandler,
  type MiddlewareHandlerContext,
  type PageProps,
  type RouteContext,
} from "./server.ts";

interface State {
  user: string | null;
}

interface Item {
  id: number;
}

const appModule = {
  default: defineApp<State>((_req, ctx) => (
    <html>
      <body>
        <ctx.Component />
      </body>
    </html>
  )),
};

const layoutModule = {
  default: defineLayout<State>((_req, { Component, state }) => (
    <div data-user={state.user ?? ""}>
      <Component />
    </div>
  )),
};

const middleware: MiddlewareHandler<State> = async (_req, ctx) => {
  ctx.state.user = "ada";
  const res = await ctx.next();
  res.headers.set("x-dest", ctx.destination);
  return res;
};

function legacyMiddleware(_req: Request, ctx: MiddlewareHandlerContext<State>) {
  return ctx.next();
}

const handlers: Handlers<Item, State> = {
  GET(_req, ctx) {
    return ctx.render({ id: Number(ctx.params.id) });
  },
  async POST(req, ctx: FreshContext<State, Item>) {
    const body = await req.formData();
    return ctx.redirect(`/items/${body.get("id")}?by=${ctx.state.user}`, 303);
  },
};

function ItemPage({ data, state, url }: PageProps<Item, State>) {
  return <p>{data.id} {state.user} {url.pathname}</p>;
}

const api: Handler = (req) => Response.json({ method: req.method });

async function AsyncPage(_req: Request, ctx: RouteContext<void, State>) {
  await Promise.resolve();
  return <p>{ctx.state.user}</p>;
}

const defined = defineRoute<State>(async (_req, ctx) => {
  await Promise.resolve();
  if (!ctx.state.user) return new Response(null, { status: 401 });
  return <p>{ctx.params.id}</p>;
});

function Island({ count }: { count: number }) {
  return <b>{count}</b>;
}

const manifest = {
  routes: {
    "./routes/_app.tsx": appModule,
    "./routes/_layout.tsx": layoutModule,
    "./routes/_middleware.ts": { handler: [middleware, legacyMiddleware] },
    "./routes/items/[id].tsx": { handler: handlers, default: ItemPage },
    "./routes/api/any.ts": { handler: api },
    "./routes/async.tsx": { default: AsyncPage },
    "./routes/defined/[id].tsx": { default: defined },
  },
  islands: { "./islands/Island.tsx": { default: Island, helper: 1 } },
  baseUrl: new URL("./types_test_root/fresh.gen.ts", import.meta.url).href,
} satisfies Manifest;

Deno.test("[types] app-style modules type-check and run through createHandler", async () => {
  const handler = await createHandler({ ...manifest, islands: {} });
  const res = await handler(new Request("http://localhost/items/7"));
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-dest"), "route");
  assert.ok(html.includes('<div data-user="ada"><p>7 ada /items/7</p></div>'), html);
  const post = await handler(
    new Request("http://localhost/items/7", {
      method: "POST",
      body: new URLSearchParams({ id: "9" }),
    }),
  );
  assert.equal(post.status, 303);
  assert.equal(post.headers.get("location"), "/items/9?by=ada");
  const defined = await handler(new Request("http://localhost/defined/3"));
  assert.ok((await defined.text()).includes("<p>3</p>"));
});
