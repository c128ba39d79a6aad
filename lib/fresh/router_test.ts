import assert from "node:assert/strict";
import { buildRouteTable, matchRoute, selectScoped } from "./router.ts";

function table(keys: string[]) {
  return buildRouteTable(Object.fromEntries(keys.map((key) => [key, key])));
}

function resolve(keys: string[], path: string) {
  const match = matchRoute(table(keys), path);
  return match && { key: match.route.key, params: match.params };
}

const ROUTES = [
  "./routes/index.tsx",
  "./routes/about.tsx",
  "./routes/blog/index.tsx",
  "./routes/blog/new.tsx",
  "./routes/blog/[slug].tsx",
  "./routes/blog/[slug]/comments.tsx",
  "./routes/blog/[...rest].tsx",
  "./routes/[...catchall].tsx",
  "./routes/(shop)/cart.tsx",
  "./routes/(shop)/[product].tsx",
  "./routes/api/v1/[id].ts",
];

Deno.test("[router] index, static, params and rest resolve to the right files", () => {
  assert.deepEqual(resolve(ROUTES, "/"), { key: "./routes/index.tsx", params: {} });
  assert.deepEqual(resolve(ROUTES, "/about"), { key: "./routes/about.tsx", params: {} });
  assert.deepEqual(resolve(ROUTES, "/blog"), { key: "./routes/blog/index.tsx", params: {} });
  assert.deepEqual(resolve(ROUTES, "/blog/hello"), {
    key: "./routes/blog/[slug].tsx",
    params: { slug: "hello" },
  });
  assert.deepEqual(resolve(ROUTES, "/blog/hello/comments"), {
    key: "./routes/blog/[slug]/comments.tsx",
    params: { slug: "hello" },
  });
  assert.deepEqual(resolve(ROUTES, "/blog/a/b/c"), {
    key: "./routes/blog/[...rest].tsx",
    params: { rest: "a/b/c" },
  });
  assert.deepEqual(resolve(ROUTES, "/api/v1/7"), {
    key: "./routes/api/v1/[id].ts",
    params: { id: "7" },
  });
});

Deno.test("[router] static beats param beats rest, whatever the file order", () => {
  assert.equal(resolve(ROUTES, "/blog/new")?.key, "./routes/blog/new.tsx");
  assert.equal(resolve([...ROUTES].reverse(), "/blog/new")?.key, "./routes/blog/new.tsx");
  assert.equal(resolve(ROUTES, "/cart")?.key, "./routes/(shop)/cart.tsx");
  assert.equal(resolve(ROUTES, "/shoes")?.key, "./routes/(shop)/[product].tsx");
  assert.equal(resolve(ROUTES, "/shoes/red")?.key, "./routes/[...catchall].tsx");
  // A static first segment wins even when a later segment is dynamic.
  const keys = ["./routes/[a]/x.tsx", "./routes/b/[c].tsx"];
  assert.equal(resolve(keys, "/b/x")?.key, "./routes/b/[c].tsx");
  // The exact route beats a rest route that also matches zero segments.
  const rest = ["./routes/docs/[...path].tsx", "./routes/docs/index.tsx"];
  assert.equal(resolve(rest, "/docs")?.key, "./routes/docs/index.tsx");
  assert.deepEqual(resolve(["./routes/docs/[...path].tsx"], "/docs"), {
    key: "./routes/docs/[...path].tsx",
    params: { path: "" },
  });
});

Deno.test("[router] the order of the route table is deterministic", () => {
  const a = table(ROUTES).routes.map((route) => route.key);
  const b = table([...ROUTES].reverse()).routes.map((route) => route.key);
  assert.deepEqual(a, b);
  assert.equal(a.at(-1), "./routes/[...catchall].tsx");
});

Deno.test("[router] params are percent-decoded; undecodable paths do not match", () => {
  assert.deepEqual(resolve(ROUTES, "/blog/hello%20w%C3%B6rld")?.params, {
    slug: "hello wörld",
  });
  assert.deepEqual(resolve(ROUTES, "/blog/a%2Fb")?.params, { slug: "a/b" });
  assert.deepEqual(resolve(ROUTES, "/blog/x/%E2%9C%93/y")?.params, { rest: "x/✓/y" });
  assert.equal(resolve(ROUTES, "/blog/%E0%A4%A"), null);
  assert.equal(resolve(["./routes/über.tsx"], "/%C3%BCber")?.key, "./routes/über.tsx");
});

Deno.test("[router] a trailing slash matches like its absence; empty params do not match", () => {
  assert.equal(resolve(ROUTES, "/about/")?.key, "./routes/about.tsx");
  assert.equal(resolve(["./routes/[id].tsx"], "/"), null);
  assert.equal(resolve(["./routes/a/[id]/b.tsx"], "/a//b"), null);
  assert.equal(resolve(["./routes/about.tsx"], "/about/more"), null);
});

Deno.test("[router] patterns use Fresh's syntax", () => {
  const patterns = Object.fromEntries(table(ROUTES).routes.map((r) => [r.key, r.pattern]));
  assert.equal(patterns["./routes/index.tsx"], "/");
  assert.equal(patterns["./routes/blog/[slug]/comments.tsx"], "/blog/:slug/comments");
  assert.equal(patterns["./routes/blog/[...rest].tsx"], "/blog/:rest*");
  assert.equal(patterns["./routes/(shop)/cart.tsx"], "/cart");
});

Deno.test("[router] special files are classified; layouts and middlewares scope by folder", () => {
  const t = table([
    ...ROUTES,
    "./routes/_app.tsx",
    "./routes/_404.tsx",
    "./routes/_500.tsx",
    "./routes/_layout.tsx",
    "./routes/_middleware.ts",
    "./routes/blog/_layout.tsx",
    "./routes/blog/_middleware.ts",
    "./routes/(shop)/_layout.tsx",
  ]);
  assert.equal(t.app?.key, "./routes/_app.tsx");
  assert.equal(t.notFound?.key, "./routes/_404.tsx");
  assert.equal(t.error?.key, "./routes/_500.tsx");
  assert.equal(t.routes.some((r) => r.key.includes("/_")), false);
  const scoped = (path: string) => {
    const route = matchRoute(t, path)!.route;
    return {
      layouts: selectScoped(route.baseRoute, t.layouts).map((l) => l.key),
      middlewares: selectScoped(route.baseRoute, t.middlewares).map((m) => m.key),
    };
  };
  assert.deepEqual(scoped("/blog/x/comments"), {
    layouts: ["./routes/_layout.tsx", "./routes/blog/_layout.tsx"],
    middlewares: ["./routes/_middleware.ts", "./routes/blog/_middleware.ts"],
  });
  assert.deepEqual(scoped("/blog").layouts, ["./routes/_layout.tsx", "./routes/blog/_layout.tsx"]);
  assert.deepEqual(scoped("/cart").layouts, [
    "./routes/_layout.tsx",
    "./routes/(shop)/_layout.tsx",
  ]);
  assert.deepEqual(scoped("/about"), {
    layouts: ["./routes/_layout.tsx"],
    middlewares: ["./routes/_middleware.ts"],
  });
  // A folder name that only shares a prefix ("blogger") is not inside "blog".
  const prefix = table(["./routes/blog/_layout.tsx", "./routes/blogger.tsx"]);
  assert.deepEqual(selectScoped(prefix.routes[0].baseRoute, prefix.layouts), []);
});

Deno.test("[router] invalid route trees are rejected with a clear message", () => {
  assert.throws(
    () => table(["./routes/[a].tsx", "./routes/[b].tsx"]),
    /^Error: Cannot build routes: \.\/routes\/\[a\]\.tsx and \.\/routes\/\[b\]\.tsx both match/,
  );
  assert.throws(
    () => table(["./routes/about.tsx", "./routes/(g)/about.tsx"]),
    /Cannot build routes: .* both match \/about/,
  );
  assert.throws(() => table(["./routes/[...a]/b.tsx"]), /must be the last segment/);
  assert.throws(() => table(["./routes/[[opt]].tsx"]), /unsupported parameter segment/);
  assert.throws(() => table(["./routes/post-[id].tsx"]), /unsupported segment/);
  assert.throws(() => table(["./routes/blog/_app.tsx"]), /_app is only supported in routes\//);
  assert.throws(() => table(["./other/x.tsx"]), /is not a \.\/routes\/ file/);
});
