/**
 * The browser's client of `/api/alerts` (docs/ALERTS.md): list, create, change (pause,
 * resume, edit) and delete the signed-in user's rules. Answers are validated; a refusal
 * is an `ApiError` carrying the server's `field` and `reason`.
 *
 * @module
 */
import { ApiError, type JsonClientDeps, requestJson } from "../../notifications/ui/api.ts";
import type { AlertRule } from "../types.ts";
import { parseAlertRules, parseRuleAnswer } from "./wire.ts";

/** The alert endpoints. */
export interface AlertsApi {
  list(): Promise<AlertRule[]>;
  create(body: Record<string, unknown>): Promise<AlertRule>;
  update(id: string, patch: Record<string, unknown>): Promise<AlertRule | null>;
  remove(id: string): Promise<void>;
}

/** The client of `/api/alerts` (`base` default). */
export function createAlertsApi(deps: JsonClientDeps = {}, base = "/api/alerts"): AlertsApi {
  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const path = (id: string) => `${base}/${encodeURIComponent(id)}`;
  return {
    async list() {
      const parsed = parseAlertRules(await requestJson(doFetch, base));
      if (!parsed) throw new ApiError(200, "bad_answer", "The rules answer is not a list");
      return parsed.rules;
    },
    async create(body) {
      const rule = parseRuleAnswer(await requestJson(doFetch, base, { method: "POST", body }));
      if (!rule) throw new ApiError(200, "bad_answer", "The answer is not a rule");
      return rule;
    },
    async update(id, patch) {
      const answer = await requestJson(doFetch, path(id), { method: "PATCH", body: patch });
      return parseRuleAnswer(answer);
    },
    async remove(id) {
      await requestJson(doFetch, path(id), { method: "DELETE" });
    },
  };
}
