import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import {
  MAX_RULE_BODY_BYTES,
  MAX_RULES_PER_USER,
  parseRuleCreate,
} from "../../../lib/alerts/schema.ts";
import {
  apiError,
  apiJson,
  beginChange,
  readJson,
  signedInUser,
} from "../../../lib/notifications/http.ts";

/**
 * `GET /api/alerts` → `{ rules: [AlertRule…], limit: 50 }` (the signed-in user's rules,
 * oldest first). `POST /api/alerts` with `{ condition, trigger?, hysteresis?, priority?,
 * name?, enabled?, expiresAt? }` creates a rule → `201 { rule }`. Refusals:
 * `{ error: { code, message, field, reason } }` — 400 `invalid_rule` (unknown symbol,
 * negative cooldown, a level that is not a finite number, an unknown field…), 400
 * `too_many_rules` (field `rules`), 401, 403 (cross-origin), 413, 429. docs/ALERTS.md.
 */
export const handler: Handlers<unknown, AppState> = {
  async GET(_req, ctx) {
    const userId = signedInUser(ctx.state);
    if (!userId) return apiError(401, "unauthorized", "Sign in to see your alerts");
    const rules = await ctx.state.services.alerts.rules.list(userId);
    return apiJson({ rules, limit: MAX_RULES_PER_USER });
  },
  async POST(req, ctx) {
    const begun = await beginChange(req, ctx.state, "create alerts");
    if ("response" in begun) return begun.response;
    const read = await readJson(req, MAX_RULE_BODY_BYTES);
    if ("response" in read) return read.response;
    const { services } = ctx.state;
    const symbols = new Set(services.config.prices.symbols);
    const parsed = parseRuleCreate(read.body, symbols, Date.now());
    if (!parsed.ok) {
      const { field, reason } = parsed.problem;
      return apiError(400, "invalid_rule", `Invalid rule: ${field || "body"} ${reason}`, {
        field: field || "body",
        reason,
      });
    }
    const created = await services.alerts.rules.create(begun.userId, parsed.value);
    if (!created.ok) {
      return apiError(400, created.code, `Cannot add the rule: ${created.reason}`, {
        field: created.field,
        reason: created.reason,
      });
    }
    return apiJson({ rule: created.rule }, 201);
  },
};
