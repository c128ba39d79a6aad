/**
 * `defineRoute`, `defineLayout` and `defineApp`: typed helpers that turn a
 * `(req, ctx) => …` function into an async route or layout component.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import type { AsyncLayout, AsyncRoute, FreshContext, RouteContext } from "./types.ts";

type Result = ComponentChildren | Response;

/** Defines an async route component; `ctx.state` is typed as `T`. */
export function defineRoute<T>(
  fn: (req: Request, ctx: RouteContext<void, T>) => Result | Promise<Result>,
): AsyncRoute<void, T> {
  return async (req, ctx) => await fn(req, ctx);
}

/** Defines a `_layout` component that may be async; `ctx.state` is typed as `T`. */
export function defineLayout<T>(
  fn: (req: Request, ctx: FreshContext<T, void>) => Result | Promise<Result>,
): AsyncLayout<void, T> {
  return async (req, ctx) => await fn(req, ctx);
}

/** Defines the `_app` component that may be async; `ctx.state` is typed as `T`. */
export function defineApp<T>(
  fn: (req: Request, ctx: FreshContext<T, void>) => Result | Promise<Result>,
): AsyncLayout<void, T> {
  return async (req, ctx) => await fn(req, ctx);
}
