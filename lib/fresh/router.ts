/**
 * File-system routing: turns the `routes` keys of a manifest (`./routes/blog/[slug].tsx`)
 * into an ordered route table, matches request paths against it and selects the
 * layouts and middlewares that apply to a route.
 *
 * Precedence, per path segment from left to right: a static segment beats a `[param]`,
 * which beats the end of the route, which beats a `[...rest]`. `(group)` folders are not
 * part of the URL but do scope layouts and middlewares, as in Fresh 1.x.
 *
 * @module
 */

/** One segment of a route's URL. */
export type Segment =
  | { kind: "static"; value: string }
  | { kind: "param"; name: string }
  | { kind: "rest"; name: string };

/** A routable file (page or API route). */
export interface RouteEntry<M> {
  /** The manifest key, e.g. `./routes/blog/[slug].tsx`. */
  key: string;
  /** Fresh's pattern syntax, e.g. `/blog/:slug` or `/files/:path*`. */
  pattern: string;
  /** The file path without extension, `index` and groups kept: `/(shop)/cart`. */
  baseRoute: string;
  segments: Segment[];
  module: M;
}

/** A `_layout` or `_middleware` file, scoped to its folder. */
export interface ScopedEntry<M> {
  key: string;
  /** The folder, e.g. `/` or `/(shop)/admin`. */
  baseRoute: string;
  module: M;
}

/** A route file without URL (`_app`, `_404`, `_500`). */
export interface SpecialEntry<M> {
  key: string;
  module: M;
}

/** The routes of a manifest, ready for matching. */
export interface RouteTable<M> {
  /** Routable files, most specific first. */
  routes: RouteEntry<M>[];
  /** `_layout` files, outermost (root) first. */
  layouts: ScopedEntry<M>[];
  /** `_middleware` files, outermost (root) first. */
  middlewares: ScopedEntry<M>[];
  app?: SpecialEntry<M>;
  notFound?: SpecialEntry<M>;
  error?: SpecialEntry<M>;
}

/** A successful match. */
export interface RouteMatch<M> {
  route: RouteEntry<M>;
  params: Record<string, string>;
}

const ROUTE_FILE = /^\.\/routes\/(.+)\.(?:tsx|ts|jsx|js)$/;
const PARAM_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const ROOT_ONLY = new Set(["_app", "_404", "_500"]);

/** Builds the route table from the `routes` of a manifest. */
export function buildRouteTable<M>(routes: Record<string, M>): RouteTable<M> {
  const table: RouteTable<M> = { routes: [], layouts: [], middlewares: [] };
  for (const key of Object.keys(routes).sort()) {
    const module = routes[key];
    const match = ROUTE_FILE.exec(key);
    if (!match) {
      throw new Error(
        `Cannot build routes: ${key} is not a ./routes/ file ending in .ts, .tsx, .js or .jsx`,
      );
    }
    const parts = match[1].split("/");
    const name = parts[parts.length - 1];
    const folder = parts.slice(0, -1);
    if (ROOT_ONLY.has(name)) {
      if (folder.length > 0) {
        throw new Error(`Cannot build routes: ${key}: ${name} is only supported in routes/`);
      }
      const entry = { key, module };
      if (name === "_app") table.app = entry;
      else if (name === "_404") table.notFound = entry;
      else table.error = entry;
    } else if (name === "_layout" || name === "_middleware") {
      const entry = { key, baseRoute: toBaseRoute(folder), module };
      (name === "_layout" ? table.layouts : table.middlewares).push(entry);
    } else {
      const segments = toSegments(key, parts);
      table.routes.push({
        key,
        pattern: toPattern(segments),
        baseRoute: toBaseRoute(name === "index" ? folder : parts),
        segments,
        module,
      });
    }
  }
  table.routes.sort(compareRoutes);
  checkConflicts(table.routes);
  table.layouts.sort(compareScoped);
  table.middlewares.sort(compareScoped);
  return table;
}

/**
 * Finds the route for a URL pathname (as given by `URL.pathname`, still percent-encoded).
 * Returns `null` when nothing matches or the path cannot be decoded.
 */
export function matchRoute<M>(table: RouteTable<M>, pathname: string): RouteMatch<M> | null {
  const raw = pathname.split("/").slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  let parts: string[];
  try {
    parts = raw.map(decodeURIComponent);
  } catch {
    return null;
  }
  for (const route of table.routes) {
    const params = matchSegments(route.segments, parts);
    if (params) return { route, params };
  }
  return null;
}

/**
 * The layouts or middlewares whose folder contains the route with `baseRoute`,
 * outermost first. Pages without a route (404, static files) use `/`.
 */
export function selectScoped<M>(baseRoute: string, items: ScopedEntry<M>[]): ScopedEntry<M>[] {
  return items.filter((item) =>
    item.baseRoute === "/" || baseRoute === item.baseRoute ||
    baseRoute.startsWith(item.baseRoute + "/")
  );
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "rest") {
      params[segment.name] = parts.slice(i).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (segment.kind === "static") {
      if (part !== segment.value) return null;
    } else {
      if (part === "") return null;
      params[segment.name] = part;
    }
  }
  return parts.length === segments.length ? params : null;
}

function toBaseRoute(parts: string[]): string {
  return "/" + parts.join("/");
}

function toSegments(key: string, parts: string[]): Segment[] {
  const urlParts = parts.filter((part) => !/^\(.+\)$/.test(part));
  if (urlParts[urlParts.length - 1] === "index") urlParts.pop();
  return urlParts.map((part, i): Segment => {
    const rest = /^\[\.\.\.(.+)\]$/.exec(part);
    const param = /^\[(.+)\]$/.exec(part);
    const name = rest?.[1] ?? param?.[1];
    if (name !== undefined && !PARAM_NAME.test(name)) {
      throw new Error(`Cannot build routes: ${key}: unsupported parameter segment ${part}`);
    }
    if (rest) {
      if (i !== urlParts.length - 1) {
        throw new Error(`Cannot build routes: ${key}: ${part} must be the last segment`);
      }
      return { kind: "rest", name: rest[1] };
    }
    if (param) return { kind: "param", name: param[1] };
    if (/[[\]]/.test(part)) {
      throw new Error(`Cannot build routes: ${key}: unsupported segment ${part}`);
    }
    return { kind: "static", value: part };
  });
}

function toPattern(segments: Segment[]): string {
  return "/" + segments.map((segment) => {
    if (segment.kind === "static") return segment.value;
    return segment.kind === "param" ? `:${segment.name}` : `:${segment.name}*`;
  }).join("/");
}

const RANK = { static: 0, param: 1, end: 2, rest: 3 } as const;

function compareRoutes<M>(a: RouteEntry<M>, b: RouteEntry<M>): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const sa = a.segments[i];
    const sb = b.segments[i];
    const diff = RANK[sa?.kind ?? "end"] - RANK[sb?.kind ?? "end"];
    if (diff !== 0) return diff;
    if (sa?.kind === "static" && sb?.kind === "static" && sa.value !== sb.value) {
      return sa.value < sb.value ? -1 : 1;
    }
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function compareScoped<M>(a: ScopedEntry<M>, b: ScopedEntry<M>): number {
  const depth = (entry: ScopedEntry<M>) => entry.baseRoute === "/" ? 0 : entry.baseRoute.length;
  return depth(a) - depth(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function checkConflicts<M>(routes: RouteEntry<M>[]): void {
  const seen = new Map<string, string>();
  for (const route of routes) {
    const shape = route.segments.map((s) => s.kind === "static" ? `s:${s.value}` : s.kind)
      .join("/");
    const other = seen.get(shape);
    if (other !== undefined) {
      throw new Error(
        `Cannot build routes: ${other} and ${route.key} both match ${route.pattern}`,
      );
    }
    seen.set(shape, route.key);
  }
}
