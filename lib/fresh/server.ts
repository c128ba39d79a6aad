/**
 * `$fresh/server.ts`: the subset of Fresh 1.7's server API that this project uses,
 * with upstream's names and signatures. See README.md for what is (not) implemented.
 *
 * @module
 */
export { createHandler } from "./handler.ts";
export { start } from "./serve.ts";
export { defineApp, defineLayout, defineRoute } from "./defines.ts";
export type {
  AppProps,
  DestinationKind,
  ErrorPageProps,
  FreshConfig,
  FreshContext,
  Handler,
  HandlerContext,
  Handlers,
  LayoutProps,
  Manifest,
  MiddlewareHandler,
  MiddlewareHandlerContext,
  PageProps,
  RouteContext,
  ServeHandlerInfo,
  UnknownPageProps,
} from "./types.ts";
