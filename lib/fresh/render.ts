/**
 * Server-side rendering of a page: `_app` wraps the `_layout`s, which wrap the page
 * (each receives the inner one as `Component`); async components are awaited first and
 * may return a `Response` instead. The markup is rendered with preact-render-to-string;
 * when islands were rendered, their state and a module script that hydrates them are
 * inserted before `</body>`, with `<link rel="modulepreload">`s before `</head>`.
 *
 * Like Fresh 1.x, the inline module script carries a fresh random `nonce` per response,
 * so a Content-Security-Policy can allow it without `'unsafe-inline'`. The nonce is
 * handed to middlewares in the {@linkcode NONCE_HEADER} response header (Fresh 2's csp
 * middleware reads the same header), which the middleware that writes the policy removes.
 *
 * @module
 */
import { type ComponentChildren, type ComponentType, Fragment, h } from "preact";
import { renderToString } from "preact-render-to-string";
import { type RenderState, RenderStateContext } from "./render_state.ts";
import { escapeJson, serializeIslands } from "./serialize.ts";
import { staticImports } from "./bundle.ts";
import type { FreshContext, PageProps } from "./types.ts";

/** The request context as seen by this module. */
export type Context = FreshContext<Record<string, unknown>, unknown>;

/** The browser files available to pages. */
export interface ClientAssets {
  /** URL prefix of the bundle files, e.g. `/_frsh/js/<build id>/`. */
  prefix: string;
  buildId: string;
  /** `"client"` and island keys → file name. */
  entries: Record<string, string>;
  /** File name → statically imported file names. */
  imports: Map<string, string[]>;
}

/** What {@linkcode renderPage} needs. */
export interface RenderInput {
  req: Request;
  ctx: Context;
  /** The page, 404 or 500 component (innermost). */
  page: unknown;
  /** `_app` and `_layout` components, outermost first. */
  wrappers: unknown[];
  init?: ResponseInit;
  assets: ClientAssets | null;
}

/**
 * The response header that carries the nonce of the page's inline script to middlewares
 * (`x-fresh-nonce`). Not part of upstream Fresh 1.x, where `RouteConfig.csp` and
 * `useCSP` write the policy instead; the middleware that writes the policy deletes it.
 */
export const NONCE_HEADER = "x-fresh-nonce";

const DEFAULT_HEAD = '<meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1.0">';

/** Renders a page into an HTML response. */
export async function renderPage(input: RenderInput): Promise<Response> {
  const { req, ctx } = input;
  let inner: ComponentChildren = null;
  for (const component of [...input.wrappers, input.page].reverse()) {
    const child = inner;
    const Component = () => child;
    if (isAsyncComponent(component)) {
      const result = await component(req, { ...ctx, Component });
      if (result instanceof Response) return result;
      inner = result;
    } else {
      inner = h(component as ComponentType<PageProps>, { ...pageProps(ctx), Component });
    }
  }
  const state: RenderState = { islands: [], head: [] };
  const html = renderToString(h(RenderStateContext.Provider, { value: state }, inner));
  const headers = new Headers(input.init?.headers);
  if (!headers.has("content-type")) headers.set("content-type", "text/html; charset=utf-8");
  const rendered = toDocument(html, state, input.assets);
  if (rendered.nonce) headers.set(NONCE_HEADER, rendered.nonce);
  return new Response(rendered.html, {
    status: input.init?.status ?? 200,
    statusText: input.init?.statusText,
    headers,
  });
}

/** The props of page components: the context without its functions. */
export function pageProps(ctx: Context): PageProps<unknown> {
  return {
    localAddr: ctx.localAddr,
    remoteAddr: ctx.remoteAddr,
    url: ctx.url,
    basePath: ctx.basePath,
    route: ctx.route,
    pattern: ctx.pattern,
    destination: ctx.destination,
    params: ctx.params,
    isPartial: ctx.isPartial,
    state: ctx.state,
    data: ctx.data,
    error: ctx.error,
    codeFrame: ctx.codeFrame,
    Component: ctx.Component,
  };
}

/** True for `async function` components (Fresh's async routes and layouts). */
export function isAsyncComponent(
  value: unknown,
): value is (req: Request, ctx: Context) => Promise<ComponentChildren | Response> {
  return typeof value === "function" && value.constructor.name === "AsyncFunction";
}

/** A random CSP nonce: a v4 UUID without its dashes (122 random bits), as Fresh 1.x makes it. */
export function randomNonce(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

function toDocument(
  html: string,
  state: RenderState,
  assets: ClientAssets | null,
): { html: string; nonce: string | null } {
  let doc = /^\s*<html[\s>]/i.test(html)
    ? html
    : `<html><head>${DEFAULT_HEAD}</head><body>${html}</body></html>`;
  if (state.head && state.head.length > 0) {
    doc = withHead(doc, renderToString(h(Fragment, null, state.head)));
  }
  let nonce: string | null = null;
  if (state.islands.length > 0) {
    if (!assets) throw new Error("Cannot render islands: no island bundle was built");
    nonce = randomNonce();
    const { head, body } = islandScripts(state, assets, nonce);
    doc = insertBefore(doc, "</head>", head, false);
    doc = insertBefore(doc, "</body>", body, true);
  }
  return { html: "<!DOCTYPE html>" + doc, nonce };
}

/** Inserts `<Head>` markup before `</head>`; its `<title>` replaces the document's. */
function withHead(doc: string, head: string): string {
  if (/<title[\s>]/i.test(head)) {
    const end = doc.toLowerCase().indexOf("</head>");
    const before = end === -1 ? doc : doc.slice(0, end);
    doc = before.replace(/<title[\s>][\s\S]*?<\/title>/i, "") + (end === -1 ? "" : doc.slice(end));
  }
  return insertBefore(doc, "</head>", head, false);
}

function islandScripts(
  state: RenderState,
  assets: ClientAssets,
  nonce: string,
): { head: string; body: string } {
  const keys = [...new Set(state.islands.map((island) => island.key))].sort();
  const files = keys.map((key) => {
    const file = assets.entries[key];
    if (file === undefined) {
      throw new Error(
        `Cannot render island ${key}: it is not in the bundle; run \`deno task build\``,
      );
    }
    return file;
  });
  const client = assets.entries["client"];
  const preload = new Set<string>();
  const visit = (file: string) => {
    if (preload.has(file)) return;
    preload.add(file);
    for (const dep of assets.imports.get(file) ?? []) visit(dep);
  };
  [client, ...files].forEach(visit);
  const url = (file: string) => escapeJson(JSON.stringify(assets.prefix + file));
  const head = [...preload].map((file) =>
    `<link rel="modulepreload" href="${escapeAttr(assets.prefix + file)}">`
  ).join("");
  const imports = files.map((file, i) => `import $${i} from ${url(file)};`).join("");
  const modules = keys.map((key, i) => `${escapeJson(JSON.stringify(key))}:$${i}`).join(",");
  const body =
    `<script type="application/json" id="__FRSH_STATE" data-build-id="${
      escapeAttr(assets.buildId)
    }">${serializeIslands(state.islands)}</script>` +
    `<script type="module" nonce="${nonce}">import { boot } from ${
      url(client)
    };${imports}boot({${modules}});</script>`;
  return { head, body };
}

function insertBefore(doc: string, tag: string, text: string, last: boolean): string {
  const lower = doc.toLowerCase();
  const at = last ? lower.lastIndexOf(tag) : lower.indexOf(tag);
  if (at === -1) return last ? doc + text : doc;
  return doc.slice(0, at) + text + doc.slice(at);
}

function escapeAttr(value: string): string {
  return value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Maps each bundle file to the files it statically imports. */
export function importGraph(files: Map<string, Uint8Array>): Map<string, string[]> {
  const decoder = new TextDecoder();
  const graph = new Map<string, string[]>();
  for (const [name, contents] of files) {
    if (!name.endsWith(".js")) continue;
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
    graph.set(name, staticImports(decoder.decode(contents)).map((dep) => dir + dep));
  }
  return graph;
}
