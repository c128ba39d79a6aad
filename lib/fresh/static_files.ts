/**
 * Static files: a scan of the static folder into a table keyed by URL path, and a
 * responder with content types, content-hash ETags, `If-None-Match` and cache headers.
 *
 * Only paths present in the table are ever served, so no request path (`..`, encoded
 * dots, backslashes) can reach a file outside the folder.
 *
 * @module
 */
import { sha256Hex } from "./bundle.ts";
import { ASSET_CACHE_BUST_KEY } from "./internal.ts";

/** A file in the static folder. */
export interface StaticFile {
  /** Decoded URL path, e.g. `/img/logo.svg`. */
  path: string;
  /** File system path. */
  file: string;
  size: number;
  /** Modification time in ms, used to reuse hashes between scans. */
  mtime: number;
  /** Quoted strong ETag derived from the contents. */
  etag: string;
  contentType: string;
}

/** Cache-Control of static files without a matching `?__frsh_c`, and in dev mode. */
export const NO_CACHE = "no-cache";
/** Cache-Control of build-specific URLs. */
export const IMMUTABLE = "public, max-age=31536000, immutable";

const TYPES: Record<string, string> = {
  avif: "image/avif",
  css: "text/css; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  gif: "image/gif",
  htm: "text/html; charset=utf-8",
  html: "text/html; charset=utf-8",
  ico: "image/x-icon",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  md: "text/markdown; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  otf: "font/otf",
  pdf: "application/pdf",
  png: "image/png",
  svg: "image/svg+xml",
  ttf: "font/ttf",
  txt: "text/plain; charset=utf-8",
  wasm: "application/wasm",
  webm: "video/webm",
  webmanifest: "application/manifest+json",
  webp: "image/webp",
  woff: "font/woff",
  woff2: "font/woff2",
  xml: "application/xml",
};

/** The Content-Type for a file name, `application/octet-stream` when unknown. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot === -1 ? "" : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

/**
 * Scans `dir` recursively (following symlinked files, not symlinked folders). Hashes are
 * reused from `previous` for files whose size and mtime did not change. A missing folder
 * gives an empty table.
 */
export async function scanStaticDir(
  dir: string,
  previous?: Map<string, StaticFile>,
): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  try {
    await scan(dir, "", files, previous);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return new Map([...files].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

/** The static file for a URL pathname (percent-encoded, as in `URL.pathname`). */
export function lookupStaticFile(
  files: Map<string, StaticFile>,
  pathname: string,
): StaticFile | undefined {
  try {
    return files.get(decodeURIComponent(pathname));
  } catch {
    return undefined;
  }
}

/** Serves a static file to a GET or HEAD request. */
export async function serveStaticFile(
  req: Request,
  file: StaticFile,
  options: { buildId: string; dev: boolean },
): Promise<Response> {
  const url = new URL(req.url);
  const immutable = !options.dev && options.buildId !== "" &&
    url.searchParams.get(ASSET_CACHE_BUST_KEY) === options.buildId;
  const headers = new Headers({
    "content-type": file.contentType,
    "etag": file.etag,
    "cache-control": immutable ? IMMUTABLE : NO_CACHE,
  });
  if (etagMatches(req.headers.get("if-none-match"), file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  if (req.method === "HEAD") {
    headers.set("content-length", String(file.size));
    return new Response(null, { headers });
  }
  const handle = await Deno.open(file.file, { read: true });
  try {
    const { size } = await handle.stat();
    headers.set("content-length", String(size));
  } catch (e) {
    handle.close();
    throw e;
  }
  return new Response(handle.readable, { headers });
}

/** True when an `If-None-Match` header value matches `etag` (weak comparison). */
export function etagMatches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

async function scan(
  dir: string,
  prefix: string,
  files: Map<string, StaticFile>,
  previous: Map<string, StaticFile> | undefined,
): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const file = `${dir}/${entry.name}`;
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory) {
      await scan(file, path, files, previous);
      continue;
    }
    if (!entry.isFile && !entry.isSymlink) continue;
    const info = await Deno.stat(file);
    if (!info.isFile) continue;
    const mtime = info.mtime?.getTime() ?? 0;
    const known = previous?.get(path);
    if (known && known.size === info.size && known.mtime === mtime) {
      files.set(path, known);
      continue;
    }
    const etag = `"${await sha256Hex(await Deno.readFile(file), 32)}"`;
    files.set(path, { path, file, size: info.size, mtime, etag, contentType: contentType(path) });
  }
}
