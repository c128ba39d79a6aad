/**
 * Reading what the auth routes receive: the login form, the token endpoint's JSON body
 * and the `next` path. Bodies are read with a size limit; nothing here keeps or logs
 * the password.
 */

/** Largest accepted form or JSON body, in bytes. */
export const MAX_BODY_BYTES = 8 * 1024;

/** The body as text, or `null` when it exceeds `maxBytes`. */
export async function readTextLimited(
  req: Request,
  maxBytes = MAX_BODY_BYTES,
): Promise<string | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await req.body?.cancel();
    return null;
  }
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > maxBytes) return null; // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Longest `next` accepted, before and after normalisation. */
export const MAX_NEXT_LENGTH = 2048;

/** Any origin works: only whether the target stays on it matters. */
const SAME_ORIGIN = "http://same.invalid";

/**
 * `next` if it is a path on this site (`/markets?x=1`), else `/`. The target is first
 * resolved as a browser would (`new URL(next, origin)`: dot segments, backslashes, tabs
 * and line breaks are all applied), then it must still be on the same origin, and only
 * its path, query and fragment are returned — and only when that result cannot itself
 * be read as another host: not `//host`, not `/\host`, nor their encoded forms
 * (`/%2F…`, `/%5C…`). So `/.//evil.example`, which normalises to `//evil.example`, is `/`.
 * Raw control characters and backslashes are refused before parsing, too.
 */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || next.length > MAX_NEXT_LENGTH || !next.startsWith("/")) return "/";
  if (next.includes("\\") || hasControlCharacter(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, SAME_ORIGIN);
  } catch {
    return "/";
  }
  if (url.origin !== SAME_ORIGIN) return "/";
  const path = url.pathname + url.search + url.hash;
  return isPlainPath(path) ? path : "/";
}

/** True when `path` reads as a path on the current origin to every URL parser. */
function isPlainPath(path: string): boolean {
  return path.length <= MAX_NEXT_LENGTH && /^\/(?![/\\]|%2f|%5c)/i.test(path) &&
    !hasControlCharacter(path);
}

/**
 * `text` without leading and trailing spaces. Only U+0020: a tab or line break is kept so
 * that the username rules refuse it instead of it being silently dropped.
 */
export function trimSpaces(text: string): string {
  return text.replace(/^ +| +$/g, "");
}

/** The fields of the login form. */
export interface LoginForm {
  username: string;
  password: string;
  next: string;
}

/**
 * Reads a URL-encoded form body of at most {@linkcode MAX_BODY_BYTES}; `null` when it is
 * too large or not a form.
 */
export async function readForm(req: Request): Promise<URLSearchParams | null> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    await req.body?.cancel();
    return null;
  }
  const text = await readTextLimited(req);
  return text === null ? null : new URLSearchParams(text);
}

/** Reads the URL-encoded login (or sign-up) form; `null` when it is too large or not a form. */
export async function readLoginForm(req: Request): Promise<LoginForm | null> {
  const form = await readForm(req);
  if (!form) return null;
  return {
    username: trimSpaces(form.get("username") ?? ""),
    password: form.get("password") ?? "",
    next: safeNextPath(form.get("next")),
  };
}

/** What a token request's body holds. */
export type CredentialsBody =
  | { kind: "none" }
  | { kind: "credentials"; username: string; password: string }
  | { kind: "invalid"; message: string };

/**
 * Reads `{ "username": "…", "password": "…" }` from a JSON body. An empty body is
 * `none` (the caller then uses the session cookie).
 */
export async function readCredentialsJson(req: Request): Promise<CredentialsBody> {
  const text = await readTextLimited(req);
  if (text === null) {
    return { kind: "invalid", message: `The body exceeds ${MAX_BODY_BYTES} bytes` };
  }
  if (text.trim() === "") return { kind: "none" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", message: "The body is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", message: 'Expected a JSON object { "username", "password" }' };
  }
  const { username, password } = value as Record<string, unknown>;
  if (typeof username !== "string" || typeof password !== "string") {
    return { kind: "invalid", message: "Expected username and password as strings" };
  }
  return { kind: "credentials", username: trimSpaces(username), password };
}
