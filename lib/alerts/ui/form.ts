/**
 * The price-alert form as data: what its fields hold (strings, as inputs do), the body
 * they become for `POST /api/alerts` / `PATCH /api/alerts/{id}`, a draft made from an
 * existing rule (to edit it), the field a server refusal is about, and a rule in words.
 * Validation is the server's: the form sends what was typed and shows the 400's
 * `field` and `reason` next to that field.
 *
 * @module
 */
import { formatPct, formatPrice, quoteCurrency } from "../../prices/format.ts";
import type { AlertCondition, AlertRule, PriceCondition } from "../types.ts";

/** The kinds of price conditions, in the order the form lists them. */
export const PRICE_KINDS: { id: PriceCondition["kind"]; label: string }[] = [
  { id: "crosses_above", label: "crosses above" },
  { id: "crosses_below", label: "crosses below" },
  { id: "above", label: "is above" },
  { id: "below", label: "is below" },
  { id: "change_pct", label: "moves by" },
];

/** Windows of a `change_pct` condition. */
export const WINDOWS = [
  { id: "5m", label: "5 minutes" },
  { id: "1h", label: "1 hour" },
  { id: "24h", label: "24 hours" },
] as const;

/** Priorities with words. */
export const PRIORITY_CHOICES = [
  { id: "low", label: "Low" },
  { id: "normal", label: "Normal" },
  { id: "high", label: "High (toast)" },
  { id: "critical", label: "Critical (stays until dismissed)" },
] as const;

/** What the form's fields hold. */
export interface AlertDraft {
  symbol: string;
  kind: PriceCondition["kind"];
  /** The price level (levels) or the percentage (change_pct), as typed. */
  level: string;
  pct: string;
  window: "5m" | "1h" | "24h";
  mode: "once" | "every";
  /** Minutes between two firings of an `every` rule, as typed. */
  cooldownMin: string;
  priority: AlertRule["priority"];
  name: string;
}

/** The form's fields, for error placement. */
export type DraftField =
  | "symbol"
  | "kind"
  | "level"
  | "pct"
  | "window"
  | "mode"
  | "cooldownMin"
  | "priority"
  | "name";

/** Each field in words, for the summary of a refusal ("Check the price: must be above 0"). */
export const FIELD_LABEL: Record<DraftField, string> = {
  symbol: "pair",
  kind: "condition",
  level: "price",
  pct: "percentage",
  window: "time window",
  mode: "how often to notify",
  cooldownMin: "minutes between alerts",
  priority: "priority",
  name: "note",
};

/** The summary of a refusal about `field`. */
export function fieldSummary(field: DraftField, reason: string): string {
  return `Check the ${FIELD_LABEL[field]}: ${reason}.`;
}

/** A new draft for `symbol` at `price` (the level starts at the current price). */
export function newDraft(symbol: string, price: number | null): AlertDraft {
  return {
    symbol,
    kind: "crosses_above",
    level: price === null ? "" : roundLevel(price),
    pct: "5",
    window: "1h",
    mode: "once",
    cooldownMin: "60",
    priority: "high",
    name: "",
  };
}

/** A price as a plain input value with sensible precision (67012.35, 0.4523). */
export function roundLevel(price: number): string {
  if (!Number.isFinite(price)) return "";
  const digits = Math.abs(price) >= 10 ? 2 : Math.abs(price) >= 1 ? 3 : 6;
  return String(Number(price.toFixed(digits)));
}

/** A typed number, or `null` when empty or not a number (the server says why). */
function num(text: string): number | null {
  const t = text.trim().replace(/,/g, "");
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** What `POST /api/alerts` gets for `draft`. */
export function draftToBody(draft: AlertDraft): Record<string, unknown> {
  const condition: Record<string, unknown> = draft.kind === "change_pct"
    ? { kind: "change_pct", symbol: draft.symbol, window: draft.window, pct: num(draft.pct) }
    : { kind: draft.kind, symbol: draft.symbol, level: num(draft.level) };
  const minutes = num(draft.cooldownMin);
  const trigger = draft.mode === "once"
    ? { mode: "once" }
    : { mode: "every", cooldownMs: minutes === null ? null : Math.round(minutes * 60_000) };
  const body: Record<string, unknown> = { condition, trigger, priority: draft.priority };
  const name = draft.name.trim();
  if (name) body.name = name;
  return body;
}

/** A draft holding an existing rule (price rules only; others give `null`). */
export function draftFromRule(rule: AlertRule): AlertDraft | null {
  const c = rule.condition;
  if (!isPriceCondition(c)) return null;
  return {
    symbol: c.symbol,
    kind: c.kind,
    level: c.kind === "change_pct" ? "" : String(c.level),
    pct: c.kind === "change_pct" ? String(c.pct) : "5",
    window: c.kind === "change_pct" ? c.window : "1h",
    mode: rule.trigger.mode,
    cooldownMin: rule.trigger.mode === "every"
      ? String(Math.round(rule.trigger.cooldownMs / 60_000 * 100) / 100)
      : "60",
    priority: rule.priority,
    name: rule.name ?? "",
  };
}

/** Whether a condition is about a price. */
export function isPriceCondition(c: AlertCondition): c is PriceCondition {
  return c.kind === "crosses_above" || c.kind === "crosses_below" || c.kind === "above" ||
    c.kind === "below" || c.kind === "change_pct";
}

/**
 * The form field a server refusal names (`condition.level`, `trigger.cooldownMs`,
 * `level`…), or null when it is about no single field (the limit of rules, say).
 */
export function fieldOf(path: string | undefined): DraftField | null {
  if (!path) return null;
  const last = path.split(/[.[\]/]/).filter(Boolean).at(-1) ?? "";
  switch (last) {
    case "level":
      return "level";
    case "pct":
      return "pct";
    case "window":
      return "window";
    case "symbol":
      return "symbol";
    case "kind":
    case "condition":
      return "kind";
    case "cooldownMs":
    case "cooldown":
      return "cooldownMin";
    case "mode":
    case "trigger":
      return "mode";
    case "priority":
      return "priority";
    case "name":
      return "name";
    default:
      return null;
  }
}

/** A rule's condition in words: "BTC-USD crosses above $70,000.00". */
export function describeCondition(c: AlertCondition, locale = "en-US"): string {
  switch (c.kind) {
    case "crosses_above":
    case "crosses_below":
    case "above":
    case "below": {
      const label = PRICE_KINDS.find((k) => k.id === c.kind)!.label;
      const price = formatPrice(c.level, {
        locale,
        currency: quoteCurrency(c.symbol),
        digits: levelDigits(c.level),
      });
      return `${c.symbol} ${label} ${price}`;
    }
    case "change_pct": {
      const window = WINDOWS.find((w) => w.id === c.window)?.label ?? c.window;
      const pct = formatPct(Math.abs(c.pct), { locale }).replace(/^[+\u2212-]/, "");
      return `${c.symbol} moves by ${pct} within ${window}`;
    }
    case "incoming_transfer":
      return `Incoming transfer of at least ${c.minAmount}${c.asset ? ` ${c.asset}` : ""} to ${
        short(c.address)
      }`;
    case "tx_status":
      return `A transaction of ${short(c.address)} is ${c.status}`;
    case "reorg":
      return `A reorg touches ${short(c.address)}`;
  }
}

/** Decimals that show a level as it was typed: at least 2, at most 8 ($1.00, $7.307). */
export function levelDigits(level: number): number {
  const text = String(level);
  if (/e/i.test(text)) return 8;
  const dot = text.indexOf(".");
  return Math.min(8, Math.max(2, dot < 0 ? 0 : text.length - dot - 1));
}

function short(address: string): string {
  return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** How a rule fires, in words: "once", "every time, at most every 1 h". */
export function describeTrigger(rule: AlertRule): string {
  if (rule.trigger.mode === "once") return "Once";
  const min = rule.trigger.cooldownMs / 60_000;
  const gap = min >= 60 && min % 60 === 0
    ? `${min / 60} h`
    : min >= 1
    ? `${Math.round(min * 10) / 10} min`
    : `${Math.round(rule.trigger.cooldownMs / 1000)} s`;
  return rule.trigger.cooldownMs === 0 ? "Every time" : `Every time, at most every ${gap}`;
}
