import { deepEqual, equal } from "node:assert/strict";
import type { AlertRule } from "../types.ts";
import {
  describeCondition,
  describeTrigger,
  draftFromRule,
  draftToBody,
  fieldOf,
  newDraft,
} from "./form.ts";

const rule: AlertRule = {
  id: "r1",
  userId: "u1",
  condition: { kind: "crosses_above", symbol: "BTC-USD", level: 70_000 },
  trigger: { mode: "every", cooldownMs: 3_600_000 },
  hysteresis: 0.001,
  priority: "high",
  enabled: true,
  createdAt: 1,
  firedCount: 0,
};

Deno.test("[alerts/ui] form: draft to body and back", () => {
  const draft = newDraft("BTC-USD", 67_012.3456);
  equal(draft.level, "67012.35");
  deepEqual(draftToBody({ ...draft, level: "70,000" }), {
    condition: { kind: "crosses_above", symbol: "BTC-USD", level: 70_000 },
    trigger: { mode: "once" },
    priority: "high",
  });
  // What cannot be a number goes as null: the server names the field and says why.
  deepEqual(
    draftToBody({ ...draft, level: "abc", mode: "every", cooldownMin: "-5", name: " tp " }),
    {
      condition: { kind: "crosses_above", symbol: "BTC-USD", level: null },
      trigger: { mode: "every", cooldownMs: -300_000 },
      priority: "high",
      name: "tp",
    },
  );
  deepEqual(draftToBody({ ...draft, kind: "change_pct", pct: "2.5", window: "5m" }).condition, {
    kind: "change_pct",
    symbol: "BTC-USD",
    window: "5m",
    pct: 2.5,
  });
  const back = draftFromRule(rule)!;
  deepEqual(draftToBody(back), {
    condition: rule.condition,
    trigger: rule.trigger,
    priority: "high",
  });
  equal(draftFromRule({ ...rule, condition: { kind: "reorg", address: "0x1" } }), null);
});

Deno.test("[alerts/ui] form: error fields and words", () => {
  equal(fieldOf("condition.level"), "level");
  equal(fieldOf("trigger.cooldownMs"), "cooldownMin");
  equal(fieldOf("condition.symbol"), "symbol");
  equal(fieldOf("rules"), null);
  equal(fieldOf(undefined), null);
  equal(describeCondition(rule.condition), "BTC-USD crosses above $70,000.00");
  equal(
    describeCondition({ kind: "change_pct", symbol: "ETH-USD", window: "1h", pct: -3 }),
    "ETH-USD moves by 3.00% within 1 hour",
  );
  equal(describeTrigger(rule), "Every time, at most every 1 h");
  equal(describeTrigger({ ...rule, trigger: { mode: "once" } }), "Once");
});
