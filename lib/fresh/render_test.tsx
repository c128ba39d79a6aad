import assert from "node:assert/strict";
import type { ComponentChildren } from "preact";
import { type Context, isAsyncComponent, NONCE_HEADER, pageProps, renderPage } from "./render.ts";
import { registerIslands } from "./islands.ts";
import { Head } from "./runtime.ts";
import type { PageProps } from "./types.ts";

function ctx(data: unknown = undefined): Context {
  const fail = (): never => {
    throw new Error("not available");
  };
  return {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    url: new URL("http://localhost/page"),
    basePath: "",
    route: "/page",
    pattern: "/page",
    destination: "route",
    params: { id: "7" },
    isPartial: false,
    state: { user: "ada" },
    data,
    Component: () => null,
    render: fail,
    renderNotFound: fail,
    next: fail,
    redirect: fail,
  };
}

const req = new Request("http://localhost/page");

function Page({ data, params }: PageProps<string>) {
  return <p>page {data} {params.id}</p>;
}

Deno.test("[render] a fragment page gets a default document around it", async () => {
  const res = await renderPage({ req, ctx: ctx("d"), page: Page, wrappers: [], assets: null });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(
    await res.text(),
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" ' +
      'content="width=device-width, initial-scale=1.0"></head><body><p>page d 7</p></body></html>',
  );
});

Deno.test("[render] wrappers nest outermost first, sync and async alike", async () => {
  function App({ Component, state }: PageProps) {
    return (
      <html>
        <body data-user={String(state.user)}>
          <Component />
        </body>
      </html>
    );
  }
  async function Layout(_req: Request, { Component, route }: Context) {
    await Promise.resolve();
    return (
      <section data-route={route}>
        <Component />
      </section>
    );
  }
  const res = await renderPage({
    req,
    ctx: ctx("x"),
    page: Page,
    wrappers: [App, Layout],
    init: { status: 418, headers: { "x-a": "1" } },
    assets: null,
  });
  assert.equal(res.status, 418);
  assert.equal(res.headers.get("x-a"), "1");
  assert.equal(
    await res.text(),
    '<!DOCTYPE html><html><body data-user="ada"><section data-route="/page"><p>page x 7</p>' +
      "</section></body></html>",
  );
});

Deno.test("[render] an async component may answer with a Response", async () => {
  const Guard = async () => {
    await Promise.resolve();
    return new Response("nope", { status: 401 });
  };
  let pageRendered = false;
  async function AsyncPage(): Promise<ComponentChildren> {
    await Promise.resolve();
    pageRendered = true;
    return <p>secret</p>;
  }
  const res = await renderPage({
    req,
    ctx: ctx(),
    page: AsyncPage,
    wrappers: [Guard],
    assets: null,
  });
  assert.equal(res.status, 401);
  assert.equal(await res.text(), "nope");
  assert.ok(pageRendered, "inner components are resolved first");
});

Deno.test("[render] page props carry the context's data but none of its functions", () => {
  const props = pageProps(ctx("d"));
  assert.equal(props.data, "d");
  assert.deepEqual(props.params, { id: "7" });
  for (const key of ["render", "renderNotFound", "next", "redirect"]) assert.ok(!(key in props));
});

Deno.test("[render] islands need a bundle; scripts go before </body>, preloads before </head>", async () => {
  function Island() {
    return <button type="button">i</button>;
  }
  registerIslands({ "./islands/Island.tsx": { default: Island } });
  const App = ({ Component }: PageProps) => (
    <html>
      <head>
        <title>t</title>
      </head>
      <body>
        <Component />
        <footer>end</footer>
      </body>
    </html>
  );
  const page = () => <Island />;
  await assert.rejects(
    renderPage({ req, ctx: ctx(), page, wrappers: [App], assets: null }),
    /Cannot render islands: no island bundle was built/,
  );
  const assets = {
    prefix: "/_frsh/js/B/",
    buildId: "B",
    entries: { client: "client.js", "./islands/Island.tsx": "island-Island.js" },
    imports: new Map([["client.js", ["chunk-1.js"]], ["island-Island.js", ["chunk-1.js"]]]),
  };
  const res = await renderPage({ req, ctx: ctx(), page, wrappers: [App], assets });
  const nonce = res.headers.get(NONCE_HEADER) ?? "";
  assert.match(nonce, /^[0-9a-f]{32}$/, "a random nonce, handed to middlewares in a header");
  const html = await res.text();
  assert.equal(
    html,
    "<!DOCTYPE html><html><head><title>t</title>" +
      '<link rel="modulepreload" href="/_frsh/js/B/client.js">' +
      '<link rel="modulepreload" href="/_frsh/js/B/chunk-1.js">' +
      '<link rel="modulepreload" href="/_frsh/js/B/island-Island.js"></head><body>' +
      '<frsh-island data-frsh="0"><button type="button">i</button>' +
      "</frsh-island><footer>end</footer>" +
      '<script type="application/json" id="__FRSH_STATE" data-build-id="B">' +
      '[["./islands/Island.tsx","default",{}]]</script>' +
      `<script type="module" nonce="${nonce}">import { boot } from "/_frsh/js/B/client.js";` +
      'import $0 from "/_frsh/js/B/island-Island.js";boot({"./islands/Island.tsx":$0});</script>' +
      "</body></html>",
  );
  const again = await renderPage({ req, ctx: ctx(), page, wrappers: [App], assets });
  assert.notEqual(again.headers.get(NONCE_HEADER), nonce, "a new nonce per response");
  await again.body?.cancel();
  const plain = await renderPage({ req, ctx: ctx(), page: () => <p>x</p>, wrappers: [], assets });
  assert.equal(plain.headers.get(NONCE_HEADER), null, "no inline script, no nonce");
  await plain.body?.cancel();
  const missing = { ...assets, entries: { client: "client.js" } };
  await assert.rejects(
    renderPage({ req, ctx: ctx(), page, wrappers: [App], assets: missing }),
    /Cannot render island \.\/islands\/Island\.tsx: it is not in the bundle/,
  );
});

Deno.test("[render] async components are told apart from sync ones", () => {
  assert.ok(isAsyncComponent(async () => await null));
  assert.ok(!isAsyncComponent(() => Promise.resolve(null)));
  assert.ok(!isAsyncComponent(Page));
  assert.ok(!isAsyncComponent("div"));
});

Deno.test("[render] <Head> children go into <head>; its <title> replaces the app's", async () => {
  function App({ Component }: PageProps) {
    return (
      <html>
        <head>
          <title>App</title>
        </head>
        <body>
          <Component />
        </body>
      </html>
    );
  }
  function Titled() {
    return (
      <>
        <Head>
          <title>Pair · BTC-USD</title>
          <meta name="description" content="a &quot;pair&quot;" />
        </Head>
        <p>body</p>
      </>
    );
  }
  const titled = await renderPage({ req, ctx: ctx(), page: Titled, wrappers: [App], assets: null });
  const html = await titled.text();
  assert.equal(html.match(/<title>/g)?.length, 1, html);
  assert.match(html, /<head><title>Pair · BTC-USD<\/title><meta name="description"[^>]*><\/head>/);
  assert.match(html, /<body><p>body<\/p><\/body>/);

  const plain = await renderPage({ req, ctx: ctx("x"), page: Page, wrappers: [App], assets: null });
  assert.match(await plain.text(), /<head><title>App<\/title><\/head>/);
});
