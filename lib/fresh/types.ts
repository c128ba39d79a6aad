/**
 * The author-facing types of Fresh 1.7 (`$fresh/server.ts`), limited to what this
 * compatibility layer implements. Names, type parameters and defaults match upstream so
 * that switching the `$fresh/` import-map entry to Fresh 1.x needs no code change.
 *
 * Where upstream's public type really is `any` (a handler's default data type, the
 * loosely typed module shapes of the manifest) it is `any` here too: narrowing them would
 * make valid Fresh code fail to type-check.
 *
 * @module
 */
import type { ComponentChildren, ComponentType } from "preact";

/** HTTP methods a route's `handler` object may define. */
export type KnownMethod =
  | "GET"
  | "HEAD"
  | "POST"
  | "PUT"
  | "DELETE"
  | "OPTIONS"
  | "PATCH";

/** What a request resolved to before middlewares ran. */
export type DestinationKind = "internal" | "static" | "route" | "notFound";

/** Options of `ctx.render()`: status, status text and extra headers of the response. */
export type RenderOptions = ResponseInit;

/** Connection information passed by `Deno.serve` (or `deno serve`) to the handler. */
export interface ServeHandlerInfo {
  /** @deprecated Kept for compatibility with std/http; not set by `Deno.serve`. */
  localAddr?: Deno.Addr;
  remoteAddr: Deno.Addr;
}

/** Configuration accepted by {@linkcode start}, {@linkcode createHandler} and `dev`. */
export interface FreshConfig {
  build?: {
    /**
     * Where `dev.ts build` writes the island bundles: an absolute path, a file URL or a
     * path relative to the project root (the folder of `fresh.gen.ts`).
     * @default {"<root>/_fresh"}
     */
    outDir?: string;
  };
  /**
   * Folder of static files: absolute, a file URL or relative to the project root.
   * @default {"<root>/static"}
   */
  staticDir?: string;
  router?: {
    /**
     * `true` redirects `/about` to `/about/`; `false` redirects `/about/` to `/about`.
     * @default {false}
     */
    trailingSlash?: boolean;
  };
  /**
   * Options for `Deno.serve` used by {@linkcode start} and by `dev`. `port` and
   * `hostname` default to the `PORT` / `HOSTNAME` environment variables, then to
   * `8000` / `"0.0.0.0"`.
   */
  server?: Partial<Deno.ServeTcpOptions>;
}

/** The request context handed to handlers, middlewares and async components. */
export interface FreshContext<
  State = Record<string, unknown>,
  // deno-lint-ignore no-explicit-any
  Data = any,
  NotFoundData = Data,
> {
  /** @deprecated Not provided by `Deno.serve`; always `undefined`. */
  localAddr?: Deno.NetAddr;
  remoteAddr: Deno.NetAddr;
  url: URL;
  /** Always `""`: base paths are not supported. */
  basePath: string;
  /** The matched route pattern, e.g. `/blog/:slug` or `/files/:path*`. */
  route: string;
  /** @deprecated Use `.route` instead */
  pattern: string;
  destination: DestinationKind;
  /** Decoded route parameters. */
  params: Record<string, string>;
  /** Always `false`: partials are not supported. */
  isPartial: boolean;
  state: State;
  data: Data;
  /** The error that caused the error page to be rendered. */
  error?: unknown;
  /** Not produced by this implementation; present for type compatibility. */
  codeFrame?: unknown;
  renderNotFound: (data?: NotFoundData) => Response | Promise<Response>;
  render: (data?: Data, options?: RenderOptions) => Response | Promise<Response>;
  /** In `_app` and `_layout` components: the wrapped inner component. */
  Component: ComponentType<unknown>;
  next: () => Promise<Response>;
  redirect: (path: string, statusCode?: number) => Response;
}

/** Props of page, layout, app, 404 and 500 components. */
// deno-lint-ignore no-explicit-any
export type PageProps<T = any, S = Record<string, unknown>> = Omit<
  FreshContext<S, T>,
  "render" | "next" | "renderNotFound" | "redirect"
>;

/** Context passed to async route components (`defineRoute`). */
// deno-lint-ignore no-explicit-any
export type RouteContext<T = any, S = Record<string, unknown>> = Omit<
  FreshContext<S, T>,
  "next" | "render"
>;

/** A route handler for one method, or for every method when exported directly. */
// deno-lint-ignore no-explicit-any
export type Handler<T = any, State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State, T>,
) => Response | Promise<Response>;

/** Per-method route handlers. */
// deno-lint-ignore no-explicit-any
export type Handlers<T = any, State = Record<string, unknown>> = {
  [K in KnownMethod]?: Handler<T, State>;
};

/** A middleware: calls `ctx.next()` to continue, or returns its own response. */
export type MiddlewareHandler<State = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<State>,
) => Response | Promise<Response>;

/** @deprecated Use {@linkcode FreshContext} instead */
export type MiddlewareHandlerContext<State = Record<string, unknown>> = FreshContext<State>;

/** @deprecated Use {@linkcode FreshContext} instead */
export type HandlerContext<
  Data = unknown,
  State = Record<string, unknown>,
  NotFoundData = Data,
> = FreshContext<State, Data, NotFoundData>;

/** @deprecated Use {@linkcode PageProps} instead */
// deno-lint-ignore no-explicit-any
export type AppProps<T = any, S = Record<string, unknown>> = PageProps<T, S>;

/** @deprecated Use {@linkcode PageProps} instead */
// deno-lint-ignore no-explicit-any
export type LayoutProps<T = any, S = Record<string, unknown>> = PageProps<T, S>;

/** @deprecated Use {@linkcode PageProps} instead */
export type ErrorPageProps = PageProps;

/** @deprecated Use {@linkcode PageProps} instead */
// deno-lint-ignore no-explicit-any
export type UnknownPageProps<T = any, S = Record<string, unknown>> = PageProps<T, S>;

/** An async route component: `async function Page(req, ctx)`. */
// deno-lint-ignore no-explicit-any
export type AsyncRoute<T = any, S = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<S, T>,
) => Promise<ComponentChildren | Response>;

/** An async `_app` or `_layout` component. */
// deno-lint-ignore no-explicit-any
export type AsyncLayout<T = any, S = Record<string, unknown>> = (
  req: Request,
  ctx: FreshContext<S, T>,
) => Promise<ComponentChildren | Response>;

/** `routes/**\/_middleware.ts`. */
// deno-lint-ignore no-explicit-any
export interface MiddlewareModule<State = any> {
  handler: MiddlewareHandler<State> | MiddlewareHandler<State>[];
}

/** A module under `islands/`: every exported component is an island. */
export interface IslandModule {
  // deno-lint-ignore no-explicit-any
  [key: string]: ComponentType<any> | unknown;
}

/**
 * The shape of `fresh.gen.ts`. As in Fresh 1.7.3, route modules are typed loosely: TS
 * cannot tell sync components from async routes by arity, so `default` takes `any`.
 */
export interface Manifest {
  routes: Record<
    string,
    {
      default?: (
        // deno-lint-ignore no-explicit-any
        propsOrRequest: any,
        // deno-lint-ignore no-explicit-any
        ctx: any,
        // deno-lint-ignore no-explicit-any
      ) => Promise<any | Response> | any;
      // deno-lint-ignore no-explicit-any
      handler?: Handler<any, any> | Handlers<any, any>;
    } | MiddlewareModule
  >;
  islands: Record<string, IslandModule>;
  baseUrl: string;
}
