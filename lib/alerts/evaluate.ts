/**
 * Evaluating one price rule against one aggregated price: pure functions, no I/O, no clock
 * of their own (docs/ALERTS.md).
 *
 * Every price condition is edge-triggered with a hysteresis band. A rule is *armed* when
 * its condition may fire; firing disarms it, and it re-arms only once the value has left
 * the band on the other side of the level:
 *
 * | condition       | armed at creation                   | fires when armed and | re-arms when              |
 * | --------------- | ----------------------------------- | -------------------- | ------------------------- |
 * | `crosses_above` | the price is below the level        | price ≥ level        | price ≤ level × (1 − h)   |
 * | `crosses_below` | the price is above the level        | price ≤ level        | price ≥ level × (1 + h)   |
 * | `above`         | always (true now fires)             | price ≥ level        | price ≤ level × (1 − h)   |
 * | `below`         | always                              | price ≤ level        | price ≥ level × (1 + h)   |
 * | `change_pct`    | always                              | change ≥ pct (≤ for a negative pct) | change back by h × 100 points |
 *
 * So a price jittering around the level by less than the band fires once. With no price
 * known at creation, a `crosses_*` rule takes its side from the first price (no firing).
 * `once` disables the rule after it fires; `every` fires again only after `cooldownMs`:
 * a crossing during the cooldown is consumed (disarms) without firing.
 *
 * @module
 */
import type { AlertRule, PriceCondition } from "./types.ts";

/** What the engine keeps with a rule (never shown to clients). */
export interface RuleState {
  /** See the module comment; null: unknown until the first price. */
  armed: boolean | null;
}

/** A rule as stored: the public rule plus its evaluation state. */
export interface StoredRule extends AlertRule {
  state: RuleState;
}

/** The values a price rule is evaluated against. */
export interface PriceInput {
  price: number;
  /** Change in percent over each window, when known. */
  change: Partial<Record<"5m" | "1h" | "24h", number>>;
}

/** The outcome of one evaluation. */
export interface Evaluation {
  /** The rule fires now (its notification must be sent). */
  fire: boolean;
  /** A firing was due but the cooldown consumed it. */
  suppressed: boolean;
  /** The rule's new state (the same object when nothing changed). */
  rule: StoredRule;
  /** The value compared (price, or change in percent); undefined when not evaluated. */
  value?: number;
}

/** The armed state of a new (or re-enabled, or changed) price rule given the current price. */
export function initialArmed(condition: PriceCondition, price: number | undefined): boolean | null {
  switch (condition.kind) {
    case "crosses_above":
      return price === undefined ? null : price < condition.level;
    case "crosses_below":
      return price === undefined ? null : price > condition.level;
    default:
      return true;
  }
}

/** Whether `rule` is evaluated at `now` (enabled, not expired). */
export function isLive(rule: AlertRule, now: number): boolean {
  return rule.enabled && (rule.expiresAt === undefined || rule.expiresAt > now);
}

/** The value a condition compares, from `input`; undefined when unknown. */
export function valueOf(condition: PriceCondition, input: PriceInput): number | undefined {
  const v = condition.kind === "change_pct" ? input.change[condition.window] : input.price;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** Evaluates a price rule against `input` at `now`. */
export function evaluatePrice(rule: StoredRule, input: PriceInput, now: number): Evaluation {
  const c = rule.condition as PriceCondition;
  const same: Evaluation = { fire: false, suppressed: false, rule };
  if (!isLive(rule, now)) return same;
  const value = valueOf(c, input);
  if (value === undefined) return same;
  const h = rule.hysteresis;
  let armed = rule.state.armed;
  let hit = false;
  if (armed === null) {
    armed = initialArmed(c, value);
    // A crosses_* rule only learns its side; the others may fire at once.
    if (c.kind === "crosses_above" || c.kind === "crosses_below") {
      return { ...same, value, rule: { ...rule, state: { armed } } };
    }
  }
  switch (c.kind) {
    case "crosses_above":
    case "above":
      if (armed && value >= c.level) hit = true;
      else if (!armed && value <= c.level * (1 - h)) armed = true;
      break;
    case "crosses_below":
    case "below":
      if (armed && value <= c.level) hit = true;
      else if (!armed && value >= c.level * (1 + h)) armed = true;
      break;
    case "change_pct": {
      const band = h * 100;
      if (c.pct > 0) {
        if (armed && value >= c.pct) hit = true;
        else if (!armed && value <= c.pct - band) armed = true;
      } else {
        if (armed && value <= c.pct) hit = true;
        else if (!armed && value >= c.pct + band) armed = true;
      }
      break;
    }
  }
  if (!hit) {
    return armed === rule.state.armed ? { ...same, value } : {
      ...same,
      value,
      rule: { ...rule, state: { armed } },
    };
  }
  const cooling = rule.trigger.mode === "every" && rule.lastFiredAt !== undefined &&
    now < rule.lastFiredAt + rule.trigger.cooldownMs;
  if (cooling) {
    return { fire: false, suppressed: true, value, rule: { ...rule, state: { armed: false } } };
  }
  return {
    fire: true,
    suppressed: false,
    value,
    rule: {
      ...rule,
      state: { armed: false },
      enabled: rule.trigger.mode === "once" ? false : rule.enabled,
      lastFiredAt: now,
      firedCount: rule.firedCount + 1,
    },
  };
}

/** The rule as clients see it (without the evaluation state). */
export function publicRule(rule: StoredRule): AlertRule {
  const { state: _state, ...out } = rule;
  return out;
}
