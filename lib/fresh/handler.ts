/**
 * `createHandler`: the request handler for a manifest.
 *
 * Per request: trailing-slash redirect; then the destination is resolved (internal
 * bundle file under `/_frsh/`, static file, route, or not found); then the middlewares
 * that apply run outermost first, each continuing with `ctx.next()`, and the last
 * `next()` reaches the destination. An error thrown by the destination (a route handler
 * or a page) renders `_500` (status 500) after being logged with `console.error`, inside
 * the middleware chain as Fresh 1.x's router does, so middlewares see (and can add
 * headers to) the 500 page; an error thrown by a middleware itself renders `_500` outside
 * of the chain. Responses to HEAD requests never carry a body.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { bundleIslands, type ClientBundle, readSnapshot, sha256Hex, toPath } from "./bundle.ts";
import { getBuildId, isDevMode, setBuildId } from "./internal.ts";
import { registerIslands } from "./islands.ts";
import { type ClientAssets, type Context, importGraph, renderPage } from "./render.ts";
import {
  buildRouteTable,
  matchRoute,
  type RouteEntry,
  type RouteMatch,
  selectScoped,
} from "./router.ts";
import {
  IMMUTABLE,
  lookupStaticFile,
  NO_CACHE,
  scanStaticDir,
  serveStaticFile,
  type StaticFile,
} from "./static_files.ts";
import type {
  FreshConfig,
  KnownMethod,
  Manifest,
  RenderOptions,
  ServeHandlerInfo,
} from "./types.ts";

/** The function returned by {@linkcode createHandler}. */
export type FreshHandler = (req: Request, info?: ServeHandlerInfo) => Promise<Response>;

type Fn = (req: Request, ctx: Context) => Response | Promise<Response>;

interface RouteModule {
  component?: unknown;
  handler: Fn | Partial<Record<KnownMethod, Fn>>;
}

const METHODS: KnownMethod[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
const JS_TYPE = "text/javascript; charset=utf-8";

/**
 * Creates the request handler for a manifest. In production the island bundles are
 * read from the build folder (`deno task build`) when present, and otherwise bundled
 * at startup; in dev mode (after `dev()`) they are always bundled at startup.
 */
export async function createHandler(
  manifest: Manifest,
  config: FreshConfig = {},
): Promise<FreshHandler> {
  const dev = isDevMode();
  const root = new URL("./", manifest.baseUrl);
  const table = buildRouteTable(manifest.routes as Record<string, Record<string, unknown>>);
  const routes = new Map(table.routes.map((route) => [route, toRouteModule(route)]));
  const middlewares = table.middlewares.map((entry) => toMiddlewares(entry.key, entry.module));
  const required = [table.app, ...table.layouts];
  for (const entry of [...required, table.notFound, table.error]) {
    if (!entry) continue;
    const component = entry.module.default;
    if (component === undefined && required.includes(entry)) {
      throw new Error(`Cannot load ${entry.key}: it has no default export`);
    }
    if (component !== undefined && typeof component !== "function") {
      throw new Error(`Cannot load ${entry.key}: its default export is not a component`);
    }
  }
  registerIslands(manifest.islands);

  const staticDir = resolvePath(root, config.staticDir ?? "static");
  let statics = await scanStaticDir(staticDir);
  const bundle = await loadBundle(manifest, root, config, dev);
  const buildId = await computeBuildId(bundle, statics);
  setBuildId(buildId);
  const prefix = `/_frsh/js/${buildId}/`;
  const assets: ClientAssets | null = bundle && {
    prefix,
    buildId,
    entries: bundle.entries,
    imports: importGraph(bundle.files),
  };
  const trailingSlash = config.router?.trailingSlash ?? false;

  return async function handler(req: Request, info?: ServeHandlerInfo): Promise<Response> {
    const url = new URL(req.url);
    const redirect = trailingSlashRedirect(url, trailingSlash);
    if (redirect) return redirect;
    if (dev) statics = await scanStaticDir(staticDir, statics);
    if (getBuildId() !== buildId) setBuildId(buildId);

    const ctx = createContext(url, info);
    let baseRoute = "/";
    let destination: () => Promise<Response>;
    let file: StaticFile | undefined;
    let match: RouteMatch<Record<string, unknown>> | null = null;
    if (url.pathname.startsWith("/_frsh/")) {
      ctx.destination = "internal";
      destination = () => Promise.resolve(serveBundleFile(req, url));
    } else if ((file = lookupStaticFile(statics, url.pathname))) {
      const found = file;
      ctx.destination = "static";
      destination = () =>
        isRead(req)
          ? serveStaticFile(req, found, { buildId, dev })
          : Promise.resolve(notAllowed(["GET", "HEAD"]));
    } else if ((match = matchRoute(table, url.pathname))) {
      const { route, params } = match;
      ctx.destination = "route";
      ctx.params = params;
      ctx.route = ctx.pattern = route.pattern;
      baseRoute = route.baseRoute;
      destination = () => runRoute(req, ctx, route);
    } else {
      ctx.destination = "notFound";
      destination = () => renderNotFound(req, ctx, undefined);
    }
    ctx.renderNotFound = (data) => renderNotFound(req, ctx, data);
    const route = match?.route;
    ctx.render = (data, options) => {
      if (!route) throw new Error(`Cannot render ${url.pathname}: it is not a route`);
      return renderRoute(req, ctx, route, data, options);
    };

    const queue: (() => Response | Promise<Response>)[] = [];
    for (const entry of selectScoped(baseRoute, table.middlewares)) {
      for (const fn of middlewares[table.middlewares.indexOf(entry)]) {
        queue.push(() => fn(req, ctx));
      }
    }
    queue.push(async () => {
      try {
        return checkResponse(req, url, await destination());
      } catch (error) {
        return await renderError(req, ctx, error);
      }
    });
    ctx.next = async () => {
      const next = queue.shift();
      if (!next) throw new Error("Cannot call ctx.next(): no handler is left");
      return await next();
    };

    let response: Response;
    try {
      response = checkResponse(req, url, await ctx.next());
    } catch (error) {
      response = await renderError(req, ctx, error);
    }
    if (req.method === "HEAD" && response.body) {
      await response.body.cancel();
      response = new Response(null, response);
    }
    return response;
  };

  function serveBundleFile(req: Request, url: URL): Response {
    const name = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : null;
    const contents = name !== null ? bundle?.files.get(name) : undefined;
    if (contents === undefined) {
      return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain" } });
    }
    if (!isRead(req)) return notAllowed(["GET", "HEAD"]);
    return new Response(contents.slice(), {
      headers: {
        "content-type": name!.endsWith(".js") ? JS_TYPE : "application/octet-stream",
        "content-length": String(contents.length),
        "cache-control": dev ? NO_CACHE : IMMUTABLE,
      },
    });
  }

  async function runRoute(req: Request, ctx: Context, route: RouteEntry<Record<string, unknown>>) {
    const { handler } = routes.get(route)!;
    if (typeof handler === "function") return await handler(req, ctx);
    const method = req.method as KnownMethod;
    const fn = handler[method] ?? (method === "HEAD" ? handler.GET : undefined);
    if (!fn) return notAllowed(METHODS.filter((m) => handler[m] || (m === "HEAD" && handler.GET)));
    return await fn(req, ctx);
  }

  async function renderRoute(
    req: Request,
    ctx: Context,
    route: RouteEntry<Record<string, unknown>>,
    data: unknown,
    options?: RenderOptions,
  ): Promise<Response> {
    const { component } = routes.get(route)!;
    if (component === undefined) {
      throw new Error(`Cannot render ${route.key}: it has no default export`);
    }
    ctx.data = data;
    return await renderPage({
      req,
      ctx,
      page: component,
      wrappers: wrappersFor(route.baseRoute),
      init: options,
      assets,
    });
  }

  async function renderNotFound(req: Request, ctx: Context, data: unknown): Promise<Response> {
    const page = table.notFound?.module;
    if (!page?.default) {
      return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain" } });
    }
    const notFoundCtx: Context = {
      ...ctx,
      data,
      render: (renderData, options) =>
        renderPage({
          req,
          ctx: { ...notFoundCtx, data: renderData ?? data },
          page: page.default,
          wrappers: wrappersFor("/"),
          init: { ...options, status: options?.status ?? 404 },
          assets,
        }),
    };
    const handler = page.handler;
    return typeof handler === "function"
      ? await (handler as Fn)(req, notFoundCtx)
      : await notFoundCtx.render(data);
  }

  async function renderError(req: Request, ctx: Context, error: unknown): Promise<Response> {
    console.error(`Error while handling ${req.method} ${ctx.url.pathname}:`, error);
    const page = table.error?.module;
    if (page?.default) {
      const errorCtx: Context = {
        ...ctx,
        error,
        render: (data, options) =>
          renderPage({
            req,
            ctx: { ...errorCtx, data },
            page: page.default,
            wrappers: wrappersFor("/"),
            init: { ...options, status: options?.status ?? 500 },
            assets,
          }),
      };
      try {
        const handler = page.handler;
        return typeof handler === "function"
          ? await (handler as Fn)(req, errorCtx)
          : await errorCtx.render();
      } catch (pageError) {
        console.error("Error while rendering the _500 page:", pageError);
      }
    }
    return new Response("Internal Server Error", {
      status: 500,
      headers: { "content-type": "text/plain" },
    });
  }

  function wrappersFor(baseRoute: string): unknown[] {
    const layouts = selectScoped(baseRoute, table.layouts).map((entry) => entry.module.default);
    return table.app ? [table.app.module.default, ...layouts] : layouts;
  }
}

function toRouteModule(route: RouteEntry<Record<string, unknown>>): RouteModule {
  const component = route.module.default;
  const handler = route.module.handler;
  if (component !== undefined && typeof component !== "function") {
    throw new Error(`Cannot load ${route.key}: its default export is not a component`);
  }
  if (handler === undefined) {
    if (component === undefined) {
      throw new Error(`Cannot load ${route.key}: it exports neither handler nor a component`);
    }
    return { component, handler: { GET: renderDefault } };
  }
  if (typeof handler === "function") return { component, handler: handler as Fn };
  if (typeof handler !== "object" || handler === null) {
    throw new Error(`Cannot load ${route.key}: handler must be a function or an object`);
  }
  const methods: Partial<Record<KnownMethod, Fn>> = {};
  for (const [method, fn] of Object.entries(handler)) {
    if (!METHODS.includes(method as KnownMethod) || typeof fn !== "function") {
      throw new Error(`Cannot load ${route.key}: handler.${method} is not a known method function`);
    }
    methods[method as KnownMethod] = fn as Fn;
  }
  if (component !== undefined && !methods.GET) methods.GET = renderDefault;
  return { component, handler: methods };
}

function renderDefault(_req: Request, ctx: Context): Response | Promise<Response> {
  return ctx.render();
}

function toMiddlewares(key: string, module: Record<string, unknown>): Fn[] {
  const handler = module.handler;
  const list = Array.isArray(handler) ? handler : [handler];
  if (list.length === 0 || list.some((fn) => typeof fn !== "function")) {
    throw new Error(`Cannot load ${key}: handler must be a function or an array of functions`);
  }
  return list as Fn[];
}

async function loadBundle(
  manifest: Manifest,
  root: URL,
  config: FreshConfig,
  dev: boolean,
): Promise<ClientBundle | null> {
  const islands = Object.keys(manifest.islands).sort();
  if (islands.length === 0) return null;
  if (!dev) {
    const outDir = resolvePath(root, config.build?.outDir ?? "_fresh");
    const snapshot = await readSnapshot(outDir);
    if (snapshot) {
      const missing = islands.find((key) => snapshot.entries[key] === undefined);
      if (missing) {
        throw new Error(
          `Cannot use the build in ${outDir}: it has no bundle for ${missing}; run \`deno task build\``,
        );
      }
      return snapshot;
    }
  }
  try {
    return await bundleIslands({ root, islands });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`${message}\nIn production, run \`deno task build\` first`);
  }
}

/**
 * The build id: a hash of the bundle and of the static files, so a changed static file
 * also changes the `?__frsh_c` value `asset()` adds.
 */
async function computeBuildId(
  bundle: ClientBundle | null,
  statics: Map<string, StaticFile>,
): Promise<string> {
  const parts = [bundle?.hash ?? ""];
  for (const file of statics.values()) parts.push(`${file.path}\0${file.etag}`);
  return await sha256Hex(new TextEncoder().encode(parts.join("\n")), 20);
}

/** Resolves an absolute path, a file URL or a root-relative path to a path. */
export function resolvePath(root: URL, path: string): string {
  if (path.startsWith("file:")) return toPath(path);
  if (path.startsWith("/")) return path;
  return toPath(new URL(path, root)).replace(/\/$/, "");
}

function createContext(url: URL, info: ServeHandlerInfo | undefined): Context {
  const remote = info?.remoteAddr;
  const remoteAddr: Deno.NetAddr =
    remote && (remote.transport === "tcp" || remote.transport === "udp")
      ? remote
      : { transport: "tcp", hostname: "127.0.0.1", port: 0 };
  const unavailable = (): never => {
    throw new Error("Cannot use the context yet: routing is not finished");
  };
  return {
    remoteAddr,
    url,
    basePath: "",
    route: "",
    pattern: "",
    destination: "notFound",
    params: {},
    isPartial: false,
    state: {},
    data: undefined,
    Component: Empty,
    render: unavailable,
    renderNotFound: unavailable,
    next: unavailable,
    redirect,
  };
}

function Empty(): ComponentChildren {
  return null;
}

function redirect(path: string, statusCode = 302): Response {
  const location = path.startsWith("/") ? "/" + path.replace(/^[/\\]+/, "") : path;
  return new Response(null, { status: statusCode, headers: { location } });
}

function trailingSlashRedirect(url: URL, trailingSlash: boolean): Response | null {
  const path = url.pathname;
  let target: string | null = null;
  if (!trailingSlash && path.length > 1 && path.endsWith("/")) {
    target = path.replace(/\/+$/, "");
  } else if (trailingSlash && !path.endsWith("/") && !/\.[^/]*$/.test(path)) {
    target = path + "/";
  }
  if (target === null) return null;
  // Collapse leading slashes so `//evil.example/` cannot become a protocol-relative URL.
  const location = "/" + target.replace(/^[/\\]+/, "") + url.search;
  return new Response(null, { status: 307, headers: { location } });
}

function checkResponse(req: Request, url: URL, response: Response): Response {
  if (response instanceof Response) return response;
  throw new Error(
    `Cannot respond to ${req.method} ${url.pathname}: a handler returned ${response}, not a Response`,
  );
}

function isRead(req: Request): boolean {
  return req.method === "GET" || req.method === "HEAD";
}

function notAllowed(methods: string[]): Response {
  return new Response("Method Not Allowed", {
    status: 405,
    headers: { allow: methods.join(", "), "content-type": "text/plain" },
  });
}
