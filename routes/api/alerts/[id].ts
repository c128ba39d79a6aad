import type { Handlers } from "$fresh/server.ts";
import type { AppState } from "../../../lib/app/context.ts";
import { MAX_RULE_BODY_BYTES, parseRulePatch } from "../../../lib/alerts/schema.ts";
import { apiError, apiJson, beginChange, readJson } from "../../../lib/notifications/http.ts";

const ID = /^[0-9a-z]{1,64}$/;

/**
 * `PATCH /api/alerts/{id}` with any of `{ name, condition, trigger, hysteresis, priority,
 * enabled, expiresAt }` (`null` clears `name` / `expiresAt`) → `{ rule }`: pause with
 * `enabled: false`, resume with `true` (a new condition or a resumed rule starts from the
 * current price). `DELETE /api/alerts/{id}` → `{ deleted: true }`. 404 for an id that is not
 * one of the user's rules; the other refusals as `POST /api/alerts`.
 */
export const handler: Handlers<unknown, AppState> = {
  async PATCH(req, ctx) {
    const begun = await beginChange(req, ctx.state, "change alerts");
    if ("response" in begun) return begun.response;
    const id = ctx.params.id;
    if (!ID.test(id)) {
      await req.body?.cancel();
      return apiError(404, "not_found", "No such alert rule");
    }
    const read = await readJson(req, MAX_RULE_BODY_BYTES);
    if ("response" in read) return read.response;
    const { services } = ctx.state;
    const parsed = parseRulePatch(read.body, new Set(services.config.prices.symbols), Date.now());
    if (!parsed.ok) {
      const { field, reason } = parsed.problem;
      return apiError(400, "invalid_rule", `Invalid change: ${field || "body"} ${reason}`, {
        field: field || "body",
        reason,
      });
    }
    const updated = await services.alerts.rules.update(begun.userId, id, parsed.value);
    if (!updated.ok) return apiError(404, "not_found", "No such alert rule");
    return apiJson({ rule: updated.rule });
  },
  async DELETE(req, ctx) {
    const begun = await beginChange(req, ctx.state, "delete alerts");
    if ("response" in begun) return begun.response;
    await req.body?.cancel();
    const id = ctx.params.id;
    if (!ID.test(id) || !(await ctx.state.services.alerts.rules.remove(begun.userId, id))) {
      return apiError(404, "not_found", "No such alert rule");
    }
    return apiJson({ deleted: true });
  },
};
