/**
 * What the JSON routes of notifications and alerts share: structured errors
 * (`{ error: { code, message, field?, reason? } }`, `cache-control: no-store`), the
 * signed-in user, the same-origin check for changes, a per-user rate of changes and a
 * bounded JSON body.
 *
 * @module
 */
import type { AppState } from "../app/context.ts";
import { createLimiter } from "../auth/limiter.ts";
import { readTextLimited } from "../auth/request.ts";
import { firstIssue, idsBodySchema, MAX_REQUEST_BYTES, readAllBodySchema } from "./schema.ts";
import type { ChangeResult, InboxStore } from "./store.ts";

/** A structured error response. */
export function apiError(
  status: number,
  code: string,
  message: string,
  extra: { field?: string; reason?: string; headers?: Record<string, string> } = {},
): Response {
  const error: Record<string, string> = { code, message };
  if (extra.field !== undefined) error.field = extra.field;
  if (extra.reason !== undefined) error.reason = extra.reason;
  return Response.json({ error }, {
    status,
    headers: { "cache-control": "no-store", ...extra.headers },
  });
}

/** A JSON answer that is never cached. */
export function apiJson(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** The signed-in (not anonymous) user's id, or null. */
export function signedInUser(state: AppState): string | null {
  const user = state.user;
  return user && !user.anonymous ? user.userId : null;
}

/** Changes per user and minute, in this isolate (a UI clicking is far below it). */
const changes = createLimiter({ budget: 240, windowMs: 60_000, maxKeys: 10_000 });

/**
 * The checks every state-changing request passes first: same origin (403), signed in
 * (401), the per-user rate (429). Returns the user id, or the refusal (body cancelled).
 */
export async function beginChange(
  req: Request,
  state: AppState,
  what: string,
): Promise<{ userId: string } | { response: Response }> {
  const refused = state.services.auth.checkSameOrigin(req);
  if (refused) {
    await req.body?.cancel();
    return { response: apiError(refused.status, refused.code, refused.message) };
  }
  const userId = signedInUser(state);
  if (!userId) {
    await req.body?.cancel();
    return { response: apiError(401, "unauthorized", `Sign in to ${what}`) };
  }
  const attempt = changes.begin(userId);
  if (!attempt.ok) {
    await req.body?.cancel();
    return {
      response: apiError(429, "rate_limited", "Too many changes; try again shortly", {
        headers: { "retry-after": String(attempt.retryAfterSec) },
      }),
    };
  }
  attempt.count();
  return { userId };
}

/** The body as JSON, or the refusal (413 too large, 400 not JSON). */
export async function readJson(
  req: Request,
  maxBytes: number,
): Promise<{ body: unknown } | { response: Response }> {
  const text = await readTextLimited(req, maxBytes);
  if (text === null) {
    return { response: apiError(413, "too_large", `The body exceeds ${maxBytes} bytes`) };
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { response: apiError(400, "bad_request", "The body is not JSON") };
  }
}

/** Which change a route makes. */
export type ChangeKind = "seen" | "read" | "archive";

/**
 * `POST /api/notifications/{seen,read,archive}`: the checks, the `{ ids }` body (or, for
 * `read`, `{ all: true, before }`), the store change, the live push on `user:{userId}`, and
 * the answer `{ updated: [ids], unknown: [ids], counts, rev }`.
 */
export async function handleChange(
  req: Request,
  state: AppState,
  kind: ChangeKind,
): Promise<Response> {
  const begun = await beginChange(req, state, "change your notifications");
  if ("response" in begun) return begun.response;
  const { userId } = begun;
  const read = await readJson(req, MAX_REQUEST_BYTES);
  if ("response" in read) return read.response;
  const { notifications } = state.services;
  const store: InboxStore = notifications.store;
  let result: ChangeResult;
  const all = kind === "read" ? readAllBodySchema.safeParse(read.body) : null;
  if (all?.success) {
    result = await store.markAllRead(userId, all.data.before);
  } else {
    const parsed = idsBodySchema.safeParse(read.body);
    if (!parsed.success) {
      const { field, reason } = firstIssue(parsed.error);
      const shape = kind === "read"
        ? '{ "ids": [...] } or { "all": true, "before": "<id>" }'
        : '{ "ids": [...] }';
      return apiError(400, "bad_request", `Expected ${shape}: ${field || "body"} ${reason}`, {
        field: field || "body",
        reason,
      });
    }
    const ids = parsed.data.ids;
    result = kind === "seen"
      ? await store.markSeen(userId, ids)
      : kind === "read"
      ? await store.markRead(userId, ids)
      : await store.archive(userId, ids);
  }
  if (result.updated.length > 0) {
    try {
      await notifications.publishChange(userId, result);
    } catch (err) {
      // Committed: the other tabs catch up on their next read.
      state.services.log.warn("Cannot publish an inbox change", { userId, err });
    }
  }
  return apiJson({
    updated: result.updated.map((i) => i.id),
    unknown: result.unknown,
    counts: result.counts,
    rev: result.rev,
  });
}
