/**
 * The browser's client of `/api/notifications` (docs/NOTIFICATIONS.md): same-origin
 * requests with the session cookie, answers bounded in size and validated, failures as
 * {@linkcode ApiError} with the server's `{ error: { code, message } }` when it sent one.
 *
 * @module
 */
import type { InboxPage, NotificationPreferences } from "../types.ts";
import type { InboxFilter } from "./merge.ts";
import { parseInboxPage, parsePreferences } from "./wire.ts";

/** Largest answer read, bytes (a page of 100 items is far below). */
export const MAX_ANSWER_BYTES = 1_000_000;
/** Ids sent in one request at most (bigger lists go in several). */
export const MAX_IDS_PER_REQUEST = 100;

/** A refused or failed request. */
export class ApiError extends Error {
  /** HTTP status; 0 when the network failed or the answer could not be read. */
  readonly status: number;
  /** The server's error code (`bad_request`, `unauthorized`…) or `network` / `bad_answer`. */
  readonly code: string;
  /** The field a 400 is about (`condition.level`), when the server named one. */
  readonly field?: string;
  /** Why that field was refused, when the server said. */
  readonly reason?: string;

  constructor(
    status: number,
    code: string,
    message: string,
    detail: { field?: string; reason?: string } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    if (detail.field !== undefined) this.field = detail.field;
    if (detail.reason !== undefined) this.reason = detail.reason;
  }
}

/** What the API client needs. */
export interface JsonClientDeps {
  /** `fetch` (default the global one). */
  fetch?: typeof fetch;
}

function str(v: unknown, max = 500): string | undefined {
  return typeof v === "string" && v.length > 0 ? v.slice(0, max) : undefined;
}

/** The error of a non-2xx answer: `{ error: { code, message, field?, reason? } }` or flat. */
export function errorFrom(status: number, body: unknown): ApiError {
  const outer = body && typeof body === "object" ? body as Record<string, unknown> : {};
  const inner = outer.error && typeof outer.error === "object"
    ? outer.error as Record<string, unknown>
    : outer;
  const code = str(inner.code, 64) ?? str(outer.error, 64) ?? `http_${status}`;
  const field = str(inner.field, 100) ?? str(outer.field, 100);
  const reason = str(inner.reason) ?? str(outer.reason);
  const message = str(inner.message) ?? reason ?? `The server answered ${status}`;
  return new ApiError(status, code, message, { field, reason });
}

/**
 * Sends a JSON request and returns the parsed answer (`null` for an empty one). Throws
 * {@linkcode ApiError} for a network failure, a non-2xx status or an answer that is too
 * large or not JSON.
 */
export async function requestJson(
  doFetch: typeof fetch,
  url: string,
  init: { method?: string; body?: unknown; keepalive?: boolean; signal?: AbortSignal } = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await doFetch(url, {
      method: init.method ?? "GET",
      headers: init.body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      keepalive: init.keepalive,
      signal: init.signal,
    });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new ApiError(0, "network", "The server could not be reached");
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new ApiError(res.status, "bad_answer", "The answer is too large");
  }
  let text: string;
  try {
    text = await res.text();
  } catch {
    throw new ApiError(res.status, "network", "The answer could not be read");
  }
  if (text.length > MAX_ANSWER_BYTES) {
    throw new ApiError(res.status, "bad_answer", "The answer is too large");
  }
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      if (res.ok) throw new ApiError(res.status, "bad_answer", "The answer is not JSON");
    }
  }
  if (!res.ok) throw errorFrom(res.status, body);
  return body;
}

/** The notification endpoints. */
export interface InboxApi {
  /** A page, newest first; `cursor` from the previous page's `next`. */
  list(query: { cursor?: string | null; limit?: number; filter: InboxFilter }): Promise<InboxPage>;
  seen(ids: string[]): Promise<void>;
  /** `keepalive`: the request survives the page navigating away (following a link). */
  read(ids: string[], options?: { keepalive?: boolean }): Promise<void>;
  /** Marks read everything up to `before` (the newest item the user saw). */
  readAll(before: string | null): Promise<void>;
  archive(ids: string[]): Promise<void>;
  preferences(): Promise<NotificationPreferences>;
  savePreferences(p: NotificationPreferences): Promise<NotificationPreferences>;
}

function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
    out.push(ids.slice(i, i + MAX_IDS_PER_REQUEST));
  }
  return out;
}

/** The client of `/api/notifications` (`base` default). */
export function createInboxApi(
  deps: JsonClientDeps = {},
  base = "/api/notifications",
): InboxApi {
  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const post = async (path: string, ids: readonly string[], keepalive = false) => {
    for (const part of chunks(ids)) {
      await requestJson(doFetch, `${base}/${path}`, {
        method: "POST",
        body: { ids: part },
        keepalive,
      });
    }
  };
  return {
    async list({ cursor, limit = 20, filter }) {
      const q = new URLSearchParams({ limit: String(limit), filter });
      if (cursor) q.set("cursor", cursor);
      const page = parseInboxPage(await requestJson(doFetch, `${base}?${q}`));
      if (!page) throw new ApiError(200, "bad_answer", "The inbox answer is not a page");
      return page;
    },
    seen: (ids) => post("seen", ids),
    read: (ids, options = {}) => post("read", ids, options.keepalive === true),
    async readAll(before) {
      await requestJson(doFetch, `${base}/read`, {
        method: "POST",
        body: before === null ? { all: true } : { all: true, before },
      });
    },
    archive: (ids) => post("archive", ids),
    async preferences() {
      const p = parsePreferences(await requestJson(doFetch, `${base}/preferences`));
      if (!p) throw new ApiError(200, "bad_answer", "The preferences answer is not valid");
      return p;
    },
    async savePreferences(prefs) {
      const p = parsePreferences(
        await requestJson(doFetch, `${base}/preferences`, { method: "PUT", body: prefs }),
      );
      if (!p) throw new ApiError(200, "bad_answer", "The preferences answer is not valid");
      return p;
    },
  };
}
