import assert from "node:assert/strict";
import type { Signal } from "@preact/signals";
import { createHandler } from "./server.ts";
import { NONCE_HEADER } from "./render.ts";
import { deserializeIslands, isSignal } from "./serialize.ts";
import manifest from "./testdata/fresh.gen.ts";
import { BREAKOUT } from "./testdata/routes/islands.tsx";
import { deadline } from "../../tests/_deadline.ts";

// Bundled once for the whole file (no `_fresh/` in testdata, so this runs deno bundle).
const handler = await deadline(createHandler(manifest), 120_000, "createHandler to bundle");

async function request(path: string, init?: RequestInit, info?: Deno.ServeHandlerInfo) {
  const res = await handler(new Request(`http://localhost${path}`, init), info);
  return { res, text: await res.text() };
}

async function captureErrors<T>(fn: () => Promise<T>): Promise<{ result: T; logged: unknown[][] }> {
  const original = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    return { result: await fn(), logged };
  } finally {
    console.error = original;
  }
}

function order(text: string, ...needles: string[]): void {
  const positions = needles.map((needle) => text.indexOf(needle));
  assert.ok(positions.every((p) => p !== -1), `all of ${needles} in ${text}`);
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, `${needles} in order`);
}

function islandState(html: string) {
  const match =
    /<script type="application\/json" id="__FRSH_STATE" data-build-id="([^"]+)">([^]*?)<\/script>/
      .exec(html);
  assert.ok(match, "the page has an island state script");
  return { buildId: match[1], raw: match[2], islands: deserializeIslands(match[2]) };
}

const { text: islandsHtml } = await request("/islands");
const BUILD_ID = islandState(islandsHtml).buildId;

Deno.test("[handler] pages render inside _app and the root layout as a full document", async () => {
  const { res, text } = await request("/about");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.ok(text.startsWith('<!DOCTYPE html><html lang="en">'), text);
  order(text, '<body data-app="fixture">', '<div class="root-layout">', "<h1>About</h1>");
  assert.ok(text.includes('<p class="route">/about</p>'));
  assert.ok(!text.includes("__FRSH_STATE"), "no island state on a page without islands");
  assert.ok(!text.includes("<script"), "no scripts on a page without islands");
  assert.ok(text.includes(`href="/styles.css?__frsh_c=${BUILD_ID}"`), "asset() in SSR");
});

Deno.test("[handler] nested layouts wrap outermost first; groups scope layouts", async () => {
  const blog = await request("/blog/new");
  order(blog.text, "data-app", "root-layout", "blog-layout", "<h1>New post</h1>");
  const pricing = await request("/pricing");
  assert.equal(pricing.res.status, 200);
  order(pricing.text, "root-layout", "marketing-layout", "pricing");
  assert.ok(!pricing.text.includes("blog-layout"));
  const about = await request("/about");
  assert.ok(!about.text.includes("blog-layout") && !about.text.includes("marketing-layout"));
});

Deno.test("[handler] route precedence: static segments beat params beat rest", async () => {
  assert.ok((await request("/blog/new")).text.includes("New post"));
  const post = await request("/blog/other");
  assert.ok(post.text.includes('<p class="slug" data-route="/blog/:slug">slug=other</p>'));
  assert.ok((await request("/")).text.includes("<h1>Home</h1>"));
  assert.equal((await request("/blog/a/b")).res.status, 404);
});

Deno.test("[handler] params are decoded; rest params take the remaining path", async () => {
  assert.ok((await request("/blog/hello%20w%C3%B6rld")).text.includes("slug=hello wörld"));
  assert.ok((await request("/files/a/b/c.txt")).text.includes("path=a/b/c.txt"));
  assert.ok((await request("/files")).text.includes("path="));
  assert.ok((await request("/files/%E2%9C%93")).text.includes("path=✓"));
});

Deno.test("[handler] middlewares run root first, share ctx.state, and may short-circuit", async () => {
  const blog = await request("/blog");
  assert.ok(blog.text.includes('<p class="trail">root>blog1>blog2</p>'), blog.text);
  assert.equal(blog.res.headers.get("x-trail"), "root>blog1>blog2");
  assert.equal(blog.res.headers.get("x-destination"), "route");
  const pricing = await request("/pricing");
  assert.equal(pricing.res.headers.get("x-trail"), "root>marketing");
  const about = await request("/about");
  assert.equal(about.res.headers.get("x-trail"), "root");
  const denied = await request("/blog?deny");
  assert.equal(denied.res.status, 403);
  assert.equal(denied.text, "denied by root middleware");
  // Only the root middleware applies to static files and unknown paths.
  const css = await request("/styles.css");
  assert.equal(css.res.headers.get("x-trail"), "root");
  assert.equal(css.res.headers.get("x-destination"), "static");
  const missing = await request("/blog-nope");
  assert.equal(missing.res.headers.get("x-destination"), "notFound");
  const bundle = await request(`/_frsh/js/${BUILD_ID}/client.js`);
  assert.equal(bundle.res.headers.get("x-destination"), "internal");
});

Deno.test("[handler] ctx.render passes data and response options", async () => {
  const { res, text } = await request("/status");
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-custom"), "yes");
  assert.ok(text.includes('<p class="data">created</p>'));
});

Deno.test("[handler] async pages, defineRoute and async pages returning a Response", async () => {
  const page = await request("/async");
  assert.equal(page.res.status, 200);
  order(page.text, "root-layout", '<p class="async">async 42 at /async</p>');
  const defined = await request("/define");
  assert.ok(defined.text.includes('<p class="defined">defined root</p>'), defined.text);
  const redirect = await request("/async_redirect");
  assert.equal(redirect.res.status, 303);
  assert.equal(redirect.res.headers.get("location"), "/about");
});

Deno.test("[handler] ctx.remoteAddr comes from the serve handler info", async () => {
  const info: Deno.ServeHandlerInfo = {
    remoteAddr: { transport: "tcp", hostname: "10.1.2.3", port: 4567 },
    completed: Promise.resolve(),
  };
  const { text } = await request("/ip", undefined, info);
  assert.ok(text.includes('<p class="ip">10.1.2.3:4567</p>'), text);
});

Deno.test("[handler] handler objects, function handlers, HEAD and 405", async () => {
  const get = await request("/api/echo?q=1");
  assert.deepEqual(JSON.parse(get.text), { method: "GET", q: "1" });
  const post = await request("/api/echo", { method: "POST", body: "hi" });
  assert.deepEqual(JSON.parse(post.text), { method: "POST", body: "hi" });
  const head = await request("/api/echo", { method: "HEAD" });
  assert.equal(head.res.status, 200);
  assert.equal(head.res.headers.get("content-type"), "application/json");
  assert.equal(head.text, "");
  const put = await request("/api/echo", { method: "PUT" });
  assert.equal(put.res.status, 405);
  assert.equal(put.res.headers.get("allow"), "GET, HEAD, POST");
  const any = await request("/api/any", { method: "DELETE" });
  assert.equal(any.text, "any DELETE");
  const pageHead = await request("/about", { method: "HEAD" });
  assert.equal(pageHead.res.status, 200);
  assert.equal(pageHead.res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(pageHead.text, "");
  const pagePost = await request("/about", { method: "POST" });
  assert.equal(pagePost.res.status, 405);
  assert.equal(pagePost.res.headers.get("allow"), "GET, HEAD");
});

Deno.test("[handler] unknown paths and ctx.renderNotFound render _404 with status 404", async () => {
  const missing = await request("/does/not/exist");
  assert.equal(missing.res.status, 404);
  order(missing.text, "data-app", "root-layout", "<h1>Custom 404</h1>", "/does/not/exist");
  const notFound = await request("/blog/missing");
  assert.equal(notFound.res.status, 404);
  assert.ok(notFound.text.includes('<p class="reason">no such post</p>'));
  assert.ok(!notFound.text.includes("blog-layout"), "404 pages use the root layouts only");
});

Deno.test("[handler] throwing handlers and components render _500, status 500, logged", async () => {
  for (
    const [path, message] of [["/api/boom", "boom from handler"], [
      "/render_boom",
      "boom from render",
    ]]
  ) {
    const { result, logged } = await captureErrors(() => request(path));
    assert.equal(result.res.status, 500);
    order(result.text, "data-app", "<h1>Custom 500</h1>", `<p class="error">${message}</p>`);
    assert.equal(result.res.headers.get("x-trail"), "root", "the middleware saw the 500 page");
    assert.equal(logged.length, 1);
    const error = logged[0].find((arg) => arg instanceof Error) as Error;
    assert.equal(error.message, message);
  }
});

Deno.test("[handler] a function island prop is a 500 naming the prop", async () => {
  const { result, logged } = await captureErrors(() => request("/island_error"));
  assert.equal(result.res.status, 500);
  assert.ok(
    result.text.includes(
      "Cannot serialize island prop onClick of ./islands/Counter.tsx: functions/JSX are not supported",
    ),
    result.text,
  );
  assert.equal(logged.length, 1);
});

Deno.test("[handler] trailing slashes redirect, without open redirects", async () => {
  const about = await request("/about/?x=1");
  assert.equal(about.res.status, 307);
  assert.equal(about.res.headers.get("location"), "/about?x=1");
  const evil = await request("//evil.example/");
  assert.equal(evil.res.status, 307);
  assert.equal(evil.res.headers.get("location"), "/evil.example");
});

Deno.test("[handler] islands are wrapped, numbered and their props serialized", () => {
  const html = islandsHtml;
  const wrappers = [...html.matchAll(/<frsh-island data-frsh="(\d+)">/g)]
    .map((m) => Number(m[1]));
  assert.deepEqual(wrappers, [0, 1, 2, 3, 4, 5, 6]);
  const { islands, raw } = islandState(html);
  assert.deepEqual(islands.map((i) => [i.key, i.exportName]), [
    ["./islands/Counter.tsx", "default"],
    ["./islands/sub/Counter.tsx", "default"],
    ["./islands/SharedInc.tsx", "default"],
    ["./islands/SharedView.tsx", "default"],
    ["./islands/Props.tsx", "default"],
    ["./islands/Props.tsx", "default"],
    ["./islands/Named.tsx", "Named"],
  ]);
  assert.deepEqual(islands[0].props, { start: 3 });
  const first = islands[4].props;
  assert.equal(first.text, BREAKOUT);
  assert.deepEqual(first.nested, { list: [1, "two", null, undefined, -0], deep: { $t: "tag" } });
  assert.ok("missing" in first && first.missing === undefined);
  assert.ok(isSignal(first.sig));
  assert.equal((first.sig as Signal<number>).value, 5);
  assert.equal(islands[5].props.sig, first.sig, "one signal shared by both islands");
  // The state cannot end the script element or start a comment.
  assert.ok(!/[<>&\u2028\u2029]/.test(raw), raw);
  assert.equal(html.match(/<script/g)?.length, 2, "only the state and the hydration script");
  assert.ok(!html.includes("<script>alert(1)"));
  // The island markup itself is escaped by the renderer.
  assert.ok(html.includes("&lt;/script>&lt;script>alert(1)&lt;/script>"), html);
});

Deno.test("[handler] the hydration script imports only the islands on the page", async () => {
  const prefix = `/_frsh/js/${BUILD_ID}/`;
  const module =
    /<script type="module" nonce="[0-9a-f]{32}">([^]*?)<\/script>/.exec(islandsHtml)![1];
  assert.ok(module.includes(`import { boot } from "${prefix}client.js";`), module);
  assert.ok(module.includes(`"${prefix}island-Counter.js"`));
  assert.ok(module.includes(`"${prefix}island-sub_Counter.js"`));
  assert.ok(!module.includes("island-Outer.js"));
  const { text } = await request("/counter");
  const counterModule =
    /<script type="module" nonce="[0-9a-f]{32}">([^]*?)<\/script>/.exec(text)![1];
  assert.deepEqual([...counterModule.matchAll(/island-[\w-]+\.js/g)].map((m) => m[0]), [
    "island-Counter.js",
  ]);
  assert.ok(text.includes(`<link rel="modulepreload" href="${prefix}client.js">`));
  assert.ok(text.includes(`<link rel="modulepreload" href="${prefix}island-Counter.js">`));
  order(text, "modulepreload", "</head>", "__FRSH_STATE", "</body>");
});

Deno.test("[handler] the inline script's nonce is random per response and in a header", async () => {
  const nonces = [];
  for (let i = 0; i < 2; i++) {
    const { res, text } = await request("/counter");
    const nonce = res.headers.get(NONCE_HEADER);
    assert.match(nonce ?? "", /^[0-9a-f]{32}$/);
    assert.equal(text.match(/<script type="module" nonce="([0-9a-f]{32})">/)?.[1], nonce);
    assert.equal(text.match(/<script/g)?.length, 2, "the state script and the module script");
    nonces.push(nonce);
  }
  assert.notEqual(nonces[0], nonces[1]);
  const { res } = await request("/about");
  assert.equal(res.headers.get(NONCE_HEADER), null, "a page without islands has no script");
});

Deno.test("[handler] islands rendered by islands are not wrapped again", async () => {
  const { text } = await request("/nested");
  assert.equal(text.match(/<frsh-island/g)?.length, 1);
  order(text, "<frsh-island", 'class="outer"', 'class="inner"', "</frsh-island>");
  const { islands } = islandState(text);
  assert.deepEqual(islands.map((i) => i.key), ["./islands/Outer.tsx"]);
});

Deno.test("[handler] bundle files are served immutable under the build id", async () => {
  const prefix = `/_frsh/js/${BUILD_ID}/`;
  const client = await request(`${prefix}client.js`);
  assert.equal(client.res.status, 200);
  assert.equal(client.res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(client.res.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.ok(client.text.includes("__FRSH_STATE"));
  const head = await request(`${prefix}client.js`, { method: "HEAD" });
  assert.equal(head.text, "");
  assert.equal(head.res.headers.get("content-length"), client.res.headers.get("content-length"));
  for (const path of [`/_frsh/js/0000/client.js`, `${prefix}nope.js`, `${prefix}../x`]) {
    assert.equal((await request(path)).res.status, 404, path);
  }
  // Chunks imported by the entries are served too.
  for (const chunk of client.text.matchAll(/from"\.\/(chunk-[\w-]+\.js)"/g)) {
    assert.equal((await request(prefix + chunk[1])).res.status, 200);
  }
});

Deno.test("[handler] static files: content types, ETag, 304, cache headers, HEAD", async () => {
  const css = await request("/styles.css");
  assert.equal(css.res.status, 200);
  assert.equal(css.res.headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal(css.res.headers.get("cache-control"), "no-cache");
  assert.ok(css.text.includes("font-family"));
  const etag = css.res.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await request("/styles.css", { headers: { "if-none-match": etag } });
  assert.equal(again.res.status, 304);
  assert.equal(again.text, "");
  const weak = await request("/styles.css", { headers: { "if-none-match": `"x", W/${etag}` } });
  assert.equal(weak.res.status, 304);
  const stale = await request("/styles.css", { headers: { "if-none-match": '"other"' } });
  assert.equal(stale.res.status, 200);
  const immutable = await request(`/styles.css?__frsh_c=${BUILD_ID}`);
  assert.equal(immutable.res.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const oldBuild = await request("/styles.css?__frsh_c=old");
  assert.equal(oldBuild.res.headers.get("cache-control"), "no-cache");
  const svg = await request("/img/logo.svg");
  assert.equal(svg.res.headers.get("content-type"), "image/svg+xml");
  const spaced = await request("/hello%20world.txt");
  assert.equal(spaced.text, "hello static\n");
  assert.equal(spaced.res.headers.get("content-type"), "text/plain; charset=utf-8");
  const json = await request("/data.json");
  assert.equal(json.res.headers.get("content-type"), "application/json");
  const head = await request("/styles.css", { method: "HEAD" });
  assert.equal(head.res.status, 200);
  assert.equal(head.text, "");
  assert.equal(head.res.headers.get("content-length"), String(css.text.length));
  const post = await request("/styles.css", { method: "POST" });
  assert.equal(post.res.status, 405);
});

Deno.test("[handler] no path escapes the static folder", async () => {
  const attempts = [
    "/../deno.json",
    "/%2e%2e/routes/index.tsx",
    "/img/..%2f..%2ffresh.gen.ts",
    "/img/%2e%2e%2f%2e%2e%2ffresh.gen.ts",
    "/..%5c..%5cfresh.gen.ts",
    "/img%5c..%5c..%5cfresh.gen.ts",
    "/img/..\\..\\fresh.gen.ts",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2fdeno.json",
    "/static/styles.css",
    "/./img/../../main.ts",
  ];
  for (const path of attempts) {
    const { res, text } = await request(path);
    assert.equal(res.status, 404, `${path} → ${res.status}`);
    assert.ok(!text.includes("manifest") && !text.includes("createHandler"), path);
  }
});

Deno.test("[handler] a handler that returns no Response is a 500", async () => {
  const broken = await createHandler({
    routes: { "./routes/x.ts": { handler: () => undefined as unknown as Response } },
    islands: {},
    baseUrl: import.meta.url,
  });
  const { result, logged } = await captureErrors(async () => {
    const res = await broken(new Request("http://localhost/x"));
    return { status: res.status, text: await res.text() };
  });
  assert.deepEqual(result, { status: 500, text: "Internal Server Error" });
  assert.match(String(logged[0][1]), /Cannot respond to GET \/x: a handler returned undefined/);
});

Deno.test("[handler] router.trailingSlash adds slashes instead of removing them", async () => {
  const slashed = await createHandler({ ...manifest, islands: {} }, {
    router: { trailingSlash: true },
  });
  const redirect = await slashed(new Request("http://localhost/about?a=1"));
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get("location"), "/about/?a=1");
  const page = await slashed(new Request("http://localhost/about/"));
  assert.equal(page.status, 200);
  assert.ok((await page.text()).includes("<h1>About</h1>"));
  const css = await slashed(new Request("http://localhost/styles.css"));
  assert.equal(css.status, 200);
  await css.body?.cancel();
});

Deno.test("[handler] malformed route modules fail at startup with the file named", async () => {
  const make = (routes: Record<string, Record<string, unknown>>) =>
    createHandler({ routes, islands: {}, baseUrl: import.meta.url } as unknown as typeof manifest);
  await assert.rejects(
    make({ "./routes/_app.tsx": {} }),
    /^Error: Cannot load \.\/routes\/_app\.tsx: it has no default export$/,
  );
  await assert.rejects(
    make({ "./routes/x/_layout.tsx": { default: "div" } }),
    /Cannot load .*_layout\.tsx: its default export is not a component/,
  );
  await assert.rejects(
    make({ "./routes/x.ts": {} }),
    /Cannot load \.\/routes\/x\.ts: it exports neither handler nor a component/,
  );
  await assert.rejects(
    make({ "./routes/x.ts": { handler: { FETCH() {} } } }),
    /handler\.FETCH is not a known method function/,
  );
  await assert.rejects(
    make({ "./routes/_middleware.ts": { handler: [] } }),
    /Cannot load .*_middleware\.ts: handler must be a function or an array of functions/,
  );
});
