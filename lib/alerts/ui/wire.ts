/**
 * Validation of alert rules as the browser receives them (`GET /api/alerts`, the answers
 * of POST / PATCH), with `zod/mini`. A rule that does not fit is dropped and counted.
 *
 * @module
 */
import * as z from "zod/mini";
import type { AlertCondition, AlertRule } from "../types.ts";

/** Rules per user the server keeps (the UI never expects more). */
export const MAX_RULES = 50;

const finite = () => z.number();
const symbol = () => z.string().check(z.maxLength(24));
const address = () => z.string().check(z.maxLength(128));
const time = () => z.number().check(z.gte(0));
const PRIORITIES = ["low", "normal", "high", "critical"] as const;

const condition = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("crosses_above"), symbol: symbol(), level: finite() }),
  z.object({ kind: z.literal("crosses_below"), symbol: symbol(), level: finite() }),
  z.object({ kind: z.literal("above"), symbol: symbol(), level: finite() }),
  z.object({ kind: z.literal("below"), symbol: symbol(), level: finite() }),
  z.object({
    kind: z.literal("change_pct"),
    symbol: symbol(),
    window: z.enum(["5m", "1h", "24h"]),
    pct: finite(),
  }),
  z.object({
    kind: z.literal("incoming_transfer"),
    address: address(),
    minAmount: finite(),
    asset: z.optional(z.string().check(z.maxLength(64))),
  }),
  z.object({
    kind: z.literal("tx_status"),
    address: address(),
    status: z.enum(["confirmed", "failed", "replaced"]),
  }),
  z.object({ kind: z.literal("reorg"), address: address() }),
]);

const trigger = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("once") }),
  z.object({ mode: z.literal("every"), cooldownMs: z.number().check(z.gte(0)) }),
]);

const rule = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  userId: z.optional(z.string().check(z.maxLength(128))),
  name: z.optional(z.nullable(z.string().check(z.maxLength(200)))),
  condition,
  trigger,
  hysteresis: z.optional(finite()),
  priority: z.enum(PRIORITIES),
  enabled: z.boolean(),
  expiresAt: z.optional(z.nullable(time())),
  createdAt: z.optional(time()),
  lastFiredAt: z.optional(z.nullable(time())),
  firedCount: z.optional(z.number().check(z.int(), z.gte(0))),
});

/** An {@linkcode AlertRule}, or `null` when `data` is not one. */
export function parseAlertRule(data: unknown): AlertRule | null {
  const r = rule.safeParse(data);
  if (!r.success) return null;
  const v = r.data;
  const out: AlertRule = {
    id: v.id,
    userId: v.userId ?? "",
    condition: v.condition as AlertCondition,
    trigger: v.trigger,
    hysteresis: v.hysteresis ?? 0.001,
    priority: v.priority,
    enabled: v.enabled,
    createdAt: v.createdAt ?? 0,
    firedCount: v.firedCount ?? 0,
  };
  if (v.name) out.name = v.name;
  if (typeof v.expiresAt === "number") out.expiresAt = v.expiresAt;
  if (typeof v.lastFiredAt === "number") out.lastFiredAt = v.lastFiredAt;
  return out;
}

/**
 * The rules of an answer: a bare array, `{ rules: [...] }` or `{ items: [...] }`. Valid
 * ones only, at most {@linkcode MAX_RULES}; `null` when the answer is none of these.
 */
export function parseAlertRules(data: unknown): { rules: AlertRule[]; rejected: number } | null {
  const d = data as Record<string, unknown> | null;
  const list = Array.isArray(data)
    ? data
    : d && typeof d === "object" && Array.isArray(d.rules)
    ? d.rules
    : d && typeof d === "object" && Array.isArray(d.items)
    ? d.items
    : null;
  if (!list) return null;
  const rules: AlertRule[] = [];
  let rejected = 0;
  for (const raw of list.slice(0, MAX_RULES * 2)) {
    const r = parseAlertRule(raw);
    if (r) rules.push(r);
    else rejected++;
  }
  return { rules: rules.slice(0, MAX_RULES * 2), rejected };
}

/** The rule of a POST / PATCH answer: the rule itself or `{ rule }`. */
export function parseRuleAnswer(data: unknown): AlertRule | null {
  const direct = parseAlertRule(data);
  if (direct) return direct;
  const d = data as Record<string, unknown> | null;
  return d && typeof d === "object" ? parseAlertRule(d.rule) : null;
}
