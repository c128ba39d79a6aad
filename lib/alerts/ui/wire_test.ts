import { deepEqual, equal } from "node:assert/strict";
import { errorFrom } from "../../notifications/ui/api.ts";
import { parseAlertRule, parseAlertRules, parseRuleAnswer } from "./wire.ts";

const rule = {
  id: "r1",
  userId: "u1",
  condition: { kind: "below", symbol: "ETH-USD", level: 3000 },
  trigger: { mode: "once" },
  hysteresis: 0.001,
  priority: "normal",
  enabled: false,
  createdAt: 5,
  lastFiredAt: 9,
  firedCount: 1,
};

Deno.test("[alerts/ui] wire: rules and answers", () => {
  deepEqual(parseAlertRule(rule), rule);
  equal(parseAlertRule({ ...rule, condition: { kind: "below", symbol: "ETH-USD" } }), null);
  equal(parseAlertRule({ ...rule, trigger: { mode: "every", cooldownMs: -1 } }), null);
  equal(parseAlertRules([rule, { id: 1 }])?.rejected, 1);
  equal(parseAlertRules({ rules: [rule] })?.rules.length, 1);
  equal(parseAlertRules({ nope: [] }), null);
  deepEqual(parseRuleAnswer({ rule }), rule);
});

Deno.test("[alerts/ui] wire: a refusal's field and reason", () => {
  const nested = errorFrom(400, {
    error: {
      code: "bad_request",
      message: "Invalid rule",
      field: "condition.level",
      reason: "must be finite",
    },
  });
  deepEqual(
    [nested.status, nested.code, nested.message, nested.field, nested.reason],
    [400, "bad_request", "Invalid rule", "condition.level", "must be finite"],
  );
  const flat = errorFrom(400, { field: "trigger.cooldownMs", reason: "must be ≥ 0" });
  deepEqual([flat.code, flat.message, flat.field], [
    "http_400",
    "must be ≥ 0",
    "trigger.cooldownMs",
  ]);
  equal(errorFrom(500, null).message, "The server answered 500");
});
