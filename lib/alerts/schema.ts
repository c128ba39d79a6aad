/**
 * Validation of alert rules as `POST /api/alerts` and `PATCH /api/alerts/{id}` receive
 * them (zod). A refusal names the field (`condition.level`, `trigger.cooldownMs`) and the
 * reason; unknown symbols and fields are refused, numbers must be finite.
 *
 * @module
 */
import { z } from "zod";
import { noControl } from "../notifications/schema.ts";
import { parseAddress } from "../wallet/address.ts";
import type { AlertCondition, AlertRule } from "./types.ts";

/** Rules per user at most. */
export const MAX_RULES_PER_USER = 50;
/** Default hysteresis band: 0.1 % of the level. */
export const DEFAULT_HYSTERESIS = 0.001;
/** Largest hysteresis band accepted (10 %). */
export const MAX_HYSTERESIS = 0.1;
/** Longest cooldown accepted, ms (30 days). */
export const MAX_COOLDOWN_MS = 30 * 24 * 60 * 60 * 1000;
/** Largest body of an alerts request, bytes. */
export const MAX_RULE_BODY_BYTES = 4 * 1024;
export const MAX_RULE_NAME_CHARS = 80;

const PRIORITIES = ["low", "normal", "high", "critical"] as const;

/** Why a rule was refused. */
export interface RuleProblem {
  /** Dotted path of the field (`condition.level`); `rules` for the per-user limit. */
  field: string;
  reason: string;
}

function schemas(symbols: ReadonlySet<string>) {
  const symbol = z.string().max(32).refine((s) => symbols.has(s), {
    error: (issue) => `unknown symbol ${JSON.stringify(String(issue.input).slice(0, 32))}`,
  });
  const level = z.number({ error: "must be a finite number" }).positive("must be above 0")
    .max(1e15, "is too large");
  const address = z.string().max(100).transform((value, ctx) => {
    const parsed = parseAddress(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.message });
      return z.NEVER;
    }
    return parsed.address;
  });
  const condition = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("crosses_above"), symbol, level }).strict(),
    z.object({ kind: z.literal("crosses_below"), symbol, level }).strict(),
    z.object({ kind: z.literal("above"), symbol, level }).strict(),
    z.object({ kind: z.literal("below"), symbol, level }).strict(),
    z.object({
      kind: z.literal("change_pct"),
      symbol,
      window: z.enum(["5m", "1h", "24h"], { error: "must be 5m, 1h or 24h" }),
      pct: z.number({ error: "must be a finite number" }).refine((v) => v !== 0, "must not be 0")
        .min(-100, "must be at least -100").max(1_000, "must be at most 1000"),
    }).strict(),
    z.object({
      kind: z.literal("incoming_transfer"),
      address,
      minAmount: z.number({ error: "must be a finite number" }).min(0, "must not be negative"),
      asset: z.string().min(1).max(64).optional(),
    }).strict(),
    z.object({
      kind: z.literal("tx_status"),
      address,
      status: z.enum(["confirmed", "failed", "replaced"], {
        error: "must be confirmed, failed or replaced",
      }),
    }).strict(),
    z.object({ kind: z.literal("reorg"), address }).strict(),
  ], {
    error:
      "must have a kind: crosses_above, crosses_below, above, below, change_pct, incoming_transfer, tx_status or reorg",
  });
  const trigger = z.discriminatedUnion("mode", [
    z.object({ mode: z.literal("once") }).strict(),
    z.object({
      mode: z.literal("every"),
      cooldownMs: z.number({ error: "must be a finite number" }).int("must be whole ms")
        .min(0, "must not be negative").max(MAX_COOLDOWN_MS, "must be at most 30 days"),
    }).strict(),
  ], { error: 'must be { mode: "once" } or { mode: "every", cooldownMs }' });
  const fields = {
    name: z.string().max(MAX_RULE_NAME_CHARS, `must be at most ${MAX_RULE_NAME_CHARS} characters`)
      .refine((s) => noControl(s) && !/[\t\n\r]/.test(s), "must not hold control characters"),
    condition,
    trigger,
    hysteresis: z.number({ error: "must be a finite number" }).min(0, "must not be negative")
      .max(MAX_HYSTERESIS, `must be at most ${MAX_HYSTERESIS}`),
    priority: z.enum(PRIORITIES, { error: "must be low, normal, high or critical" }),
    enabled: z.boolean({ error: "must be true or false" }),
    expiresAt: z.number({ error: "must be a time in ms" }).int("must be whole ms").positive(),
  };
  return {
    create: z.object({
      name: fields.name.optional(),
      condition: fields.condition,
      trigger: fields.trigger.optional(),
      hysteresis: fields.hysteresis.optional(),
      priority: fields.priority.optional(),
      enabled: fields.enabled.optional(),
      expiresAt: fields.expiresAt.optional(),
    }).strict(),
    patch: z.object({
      name: fields.name.nullable().optional(),
      condition: fields.condition.optional(),
      trigger: fields.trigger.optional(),
      hysteresis: fields.hysteresis.optional(),
      priority: fields.priority.optional(),
      enabled: fields.enabled.optional(),
      expiresAt: fields.expiresAt.nullable().optional(),
    }).strict(),
  };
}

/** The first issue of a zod error as a {@linkcode RuleProblem}. */
function problemOf(error: z.ZodError): RuleProblem {
  const issue = error.issues[0];
  if (!issue) return { field: "", reason: "is invalid" };
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    return { field: [...path, issue.keys[0]].join("."), reason: "is not a known field" };
  }
  return { field: path.join("."), reason: issue.message };
}

/** What a new rule may set. */
export interface RuleCreate {
  name?: string;
  condition: AlertCondition;
  trigger?: AlertRule["trigger"];
  hysteresis?: number;
  priority?: AlertRule["priority"];
  enabled?: boolean;
  expiresAt?: number;
}

/** What a change may set (`null` clears `name` / `expiresAt`). */
export interface RulePatch {
  name?: string | null;
  condition?: AlertCondition;
  trigger?: AlertRule["trigger"];
  hysteresis?: number;
  priority?: AlertRule["priority"];
  enabled?: boolean;
  expiresAt?: number | null;
}

/** The outcome of a parse. */
export type RuleParse<T> = { ok: true; value: T } | { ok: false; problem: RuleProblem };

function check<T>(expiresAt: number | null | undefined, value: T, now: number): RuleParse<T> {
  if (typeof expiresAt === "number" && expiresAt <= now) {
    return { ok: false, problem: { field: "expiresAt", reason: "must be in the future" } };
  }
  return { ok: true, value };
}

/** Validates a new rule against the known `symbols`. */
export function parseRuleCreate(
  body: unknown,
  symbols: ReadonlySet<string>,
  now: number,
): RuleParse<RuleCreate> {
  const r = schemas(symbols).create.safeParse(body);
  if (!r.success) return { ok: false, problem: problemOf(r.error) };
  return check(r.data.expiresAt, r.data as RuleCreate, now);
}

/** Validates a change of a rule against the known `symbols`. */
export function parseRulePatch(
  body: unknown,
  symbols: ReadonlySet<string>,
  now: number,
): RuleParse<RulePatch> {
  const r = schemas(symbols).patch.safeParse(body);
  if (!r.success) return { ok: false, problem: problemOf(r.error) };
  return check(r.data.expiresAt, r.data as RulePatch, now);
}

/** Whether a condition is about prices (else a wallet condition). */
export function isPriceCondition(
  c: AlertCondition,
): c is Extract<AlertCondition, { symbol: string }> {
  return "symbol" in c;
}
