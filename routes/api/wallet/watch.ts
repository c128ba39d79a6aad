import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { createLimiter } from "../../../lib/auth/mod.ts";
import { readTextLimited } from "../../../lib/auth/request.ts";
import { parseAddress } from "../../../lib/wallet/address.ts";
import { refusal } from "../../../lib/wallet/http.ts";
import {
  addWatched,
  listWatched,
  MAX_WATCH_BODY_BYTES,
  MAX_WATCHED,
  parseLabel,
} from "../../../lib/wallet/watch.ts";

/** Watch changes (POST and DELETE) per user and minute, in this isolate. */
export const watchChanges = createLimiter({ budget: 60, windowMs: 60_000, maxKeys: 10_000 });

function signedIn(state: AppState): string | null {
  return state.user && !state.user.anonymous ? state.user.userId : null;
}

/**
 * `GET /api/wallet/watch`: the signed-in user's watched addresses,
 * `{ addresses: [{ address, label, addedAt }], max: 20 }`.
 * `POST /api/wallet/watch` with `{ "address", "label"? }`: watches an address (EIP-55:
 * a mixed-case address must carry a valid checksum), `201 { address, label, addedAt }`
 * (`200` when it was watched already: the label is updated). Session cookie required
 * (401); POST from same-origin pages and programs only (403); ≤ 1 KiB (413); bad address
 * or label 400 naming the problem; a 21st address 409; ≤ 60 changes a minute (429).
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(_req, ctx) {
    const userId = signedIn(ctx.state);
    if (!userId) {
      return refusal({ status: 401, code: "unauthorized", message: "Sign in to watch addresses" });
    }
    const addresses = await listWatched(ctx.state.services.kv, userId);
    return Response.json({ addresses, max: MAX_WATCHED }, {
      headers: { "cache-control": "no-store" },
    });
  },
  async POST(req, ctx) {
    const { auth, kv } = ctx.state.services;
    const refused = auth.checkSameOrigin(req);
    if (refused) {
      await req.body?.cancel();
      return refusal(refused);
    }
    const userId = signedIn(ctx.state);
    if (!userId) {
      await req.body?.cancel();
      return refusal({ status: 401, code: "unauthorized", message: "Sign in to watch addresses" });
    }
    const attempt = watchChanges.begin(userId);
    if (!attempt.ok) {
      await req.body?.cancel();
      return refusal(
        { status: 429, code: "rate_limited", message: "Too many changes; try again shortly" },
        { "retry-after": String(attempt.retryAfterSec) },
      );
    }
    attempt.count();
    const text = await readTextLimited(req, MAX_WATCH_BODY_BYTES);
    if (text === null) {
      return refusal({
        status: 413,
        code: "too_large",
        message: `The body exceeds ${MAX_WATCH_BODY_BYTES} bytes`,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return refusal({ status: 400, code: "bad_request", message: "The body is not JSON" });
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return refusal({
        status: 400,
        code: "bad_request",
        message: 'Expected a JSON object { "address", "label"? }',
      });
    }
    const fields = body as { address?: unknown; label?: unknown };
    const address = parseAddress(fields.address);
    if (!address.ok) {
      return refusal({ status: 400, code: "invalid_address", message: address.message });
    }
    const label = parseLabel(fields.label);
    if (!label.ok) return refusal({ status: 400, code: "invalid_label", message: label.message });
    const result = await addWatched(kv, userId, address.address, label.label);
    if (!result.ok) return refusal({ status: 409, code: "too_many", message: result.message });
    return Response.json(result.watched, {
      status: result.created ? 201 : 200,
      headers: { "cache-control": "no-store" },
    });
  },
};
