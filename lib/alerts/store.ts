/**
 * Alert rules in KV: `["alert_rule", userId, ruleId]` (rule + evaluation state), at most
 * {@linkcode MAX_RULES_PER_USER} per user (the count `["alert_user", userId]` is checked by
 * every create and delete, so two requests at once cannot pass the limit), wallet rules
 * indexed by address. Every change also marks the user dirty (`["alert_dirty", userId]`)
 * and bumps `["alert_rev"]` in the same commit: the engine reloads that user's rules.
 *
 * @module
 */
import {
  alertAddressKey,
  alertDirtyKey,
  alertRevKey,
  alertRuleKey,
  alertRulePrefix,
  alertUserKey,
} from "../kv/keys.ts";
import { newId } from "../notifications/ids.ts";
import { initialArmed, publicRule, type StoredRule } from "./evaluate.ts";
import {
  DEFAULT_HYSTERESIS,
  isPriceCondition,
  MAX_RULES_PER_USER,
  type RuleCreate,
  type RulePatch,
} from "./schema.ts";
import type { AlertCondition, AlertRule } from "./types.ts";

/** What `["alert_user", userId]` holds. */
interface UserRules {
  count: number;
}

/** The outcome of a create. */
export type CreateOutcome =
  | { ok: true; rule: AlertRule }
  | { ok: false; code: "too_many_rules"; field: "rules"; reason: string };

/** The outcome of a change. */
export type PatchOutcome = { ok: true; rule: AlertRule } | { ok: false; code: "not_found" };

/** Options of the store functions. */
export interface RuleStoreOptions {
  kv: Deno.Kv;
  now?: () => number;
  /** The current price of a symbol (to arm a new `crosses_*` rule), when known. */
  priceOf?: (symbol: string) => number | undefined;
}

const MAX_TRIES = 30;

function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + 2 * attempt)));
}

function addressOf(c: AlertCondition): string | null {
  return isPriceCondition(c) ? null : c.address;
}

function armedFor(c: AlertCondition, priceOf?: (s: string) => number | undefined): boolean | null {
  return isPriceCondition(c) ? initialArmed(c, priceOf?.(c.symbol)) : null;
}

function markChanged(op: Deno.AtomicOperation, userId: string, now: number) {
  // Expires as a safety net only: the engine clears it within a tick, and a full load on
  // winning the lease ignores markers.
  return op.set(alertDirtyKey(userId), now, { expireIn: 24 * 60 * 60 * 1000 })
    .sum(alertRevKey(), 1n);
}

/** The rule store (see the module comment). */
export interface RuleStore {
  list(userId: string): Promise<AlertRule[]>;
  /** The stored rules (with state) of one user. */
  listStored(userId: string): Promise<Deno.KvEntry<StoredRule>[]>;
  create(userId: string, input: RuleCreate): Promise<CreateOutcome>;
  update(userId: string, ruleId: string, patch: RulePatch): Promise<PatchOutcome>;
  remove(userId: string, ruleId: string): Promise<boolean>;
  /**
   * Deletes every rule of the user (account deletion); returns how many. Leaves the
   * user's dirty marker for the engine to clear (it expires within a day regardless).
   */
  removeAll(userId: string): Promise<number>;
}

/** Creates the rule store. */
export function createRuleStore(options: RuleStoreOptions): RuleStore {
  const { kv } = options;
  const now = options.now ?? Date.now;
  /** One change per user at a time in this isolate (other isolates: the KV checks). */
  const queues = new Map<string, Promise<unknown>>();
  function serial<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const prev = queues.get(userId) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => {});
    queues.set(userId, tail);
    tail.then(() => {
      if (queues.get(userId) === tail) queues.delete(userId);
    });
    return next;
  }

  async function listStored(userId: string) {
    const out: Deno.KvEntry<StoredRule>[] = [];
    const iter = kv.list<StoredRule>({ prefix: alertRulePrefix(userId) }, {
      limit: MAX_RULES_PER_USER * 2,
    });
    for await (const entry of iter) out.push(entry);
    return out;
  }

  async function create(userId: string, input: RuleCreate): Promise<CreateOutcome> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const t = now();
      const meta = await kv.get<UserRules>(alertUserKey(userId));
      const count = meta.value?.count ?? 0;
      if (count >= MAX_RULES_PER_USER) {
        return {
          ok: false,
          code: "too_many_rules",
          field: "rules",
          reason: `at most ${MAX_RULES_PER_USER} rules per user; delete one first`,
        };
      }
      const rule: StoredRule = {
        id: newId(t),
        userId,
        condition: input.condition,
        trigger: input.trigger ?? { mode: "once" },
        hysteresis: input.hysteresis ?? DEFAULT_HYSTERESIS,
        priority: input.priority ?? "normal",
        enabled: input.enabled ?? true,
        createdAt: t,
        firedCount: 0,
        state: { armed: armedFor(input.condition, options.priceOf) },
      };
      if (input.name) rule.name = input.name;
      if (input.expiresAt !== undefined) rule.expiresAt = input.expiresAt;
      const op = kv.atomic().check(meta)
        .set(alertUserKey(userId), { count: count + 1 } satisfies UserRules)
        .set(alertRuleKey(userId, rule.id), rule);
      const address = addressOf(rule.condition);
      if (address) op.set(alertAddressKey(address, userId, rule.id), 1);
      if ((await markChanged(op, userId, t).commit()).ok) {
        return { ok: true, rule: publicRule(rule) };
      }
      await pause(i);
    }
    throw new Error("Cannot create the rule: the user's rules kept changing");
  }

  async function update(userId: string, ruleId: string, patch: RulePatch): Promise<PatchOutcome> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const t = now();
      const entry = await kv.get<StoredRule>(alertRuleKey(userId, ruleId));
      const old = entry.value;
      if (!old) return { ok: false, code: "not_found" };
      const next: StoredRule = structuredClone(old);
      if (patch.name === null) delete next.name;
      else if (patch.name !== undefined) next.name = patch.name;
      if (patch.expiresAt === null) delete next.expiresAt;
      else if (patch.expiresAt !== undefined) next.expiresAt = patch.expiresAt;
      if (patch.condition) next.condition = patch.condition;
      if (patch.trigger) next.trigger = patch.trigger;
      if (patch.hysteresis !== undefined) next.hysteresis = patch.hysteresis;
      if (patch.priority) next.priority = patch.priority;
      if (patch.enabled !== undefined) next.enabled = patch.enabled;
      // A new condition, or a rule switched back on, starts over from the current price.
      const rearm = patch.condition !== undefined || patch.hysteresis !== undefined ||
        (patch.enabled === true && !old.enabled);
      if (rearm) next.state = { armed: armedFor(next.condition, options.priceOf) };
      const op = kv.atomic().check(entry).set(alertRuleKey(userId, ruleId), next);
      const before = addressOf(old.condition);
      const after = addressOf(next.condition);
      if (before !== after) {
        if (before) op.delete(alertAddressKey(before, userId, ruleId));
        if (after) op.set(alertAddressKey(after, userId, ruleId), 1);
      }
      if ((await markChanged(op, userId, t).commit()).ok) {
        return { ok: true, rule: publicRule(next) };
      }
      await pause(i);
    }
    throw new Error("Cannot change the rule: it kept changing");
  }

  async function remove(userId: string, ruleId: string): Promise<boolean> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const [entry, meta] = await kv.getMany<[StoredRule, UserRules]>([
        alertRuleKey(userId, ruleId),
        alertUserKey(userId),
      ]);
      if (!entry.value) return false;
      const op = kv.atomic().check(entry).check(meta)
        .delete(alertRuleKey(userId, ruleId))
        .set(
          alertUserKey(userId),
          {
            count: Math.max(0, (meta.value?.count ?? 1) - 1),
          } satisfies UserRules,
        );
      const address = addressOf(entry.value.condition);
      if (address) op.delete(alertAddressKey(address, userId, ruleId));
      if ((await markChanged(op, userId, now()).commit()).ok) return true;
      await pause(i);
    }
    throw new Error("Cannot delete the rule: it kept changing");
  }

  async function removeAll(userId: string): Promise<number> {
    let removed = 0;
    for (const entry of await listStored(userId)) {
      if (await remove(userId, entry.value.id)) removed++;
    }
    // The dirty marker stays: the engine drops the user's rules from memory and clears it.
    await kv.delete(alertUserKey(userId));
    return removed;
  }

  return {
    async list(userId) {
      return (await listStored(userId)).map((e) => publicRule(e.value));
    },
    listStored,
    create: (userId, input) => serial(userId, () => create(userId, input)),
    update: (userId, ruleId, patch) => serial(userId, () => update(userId, ruleId, patch)),
    remove: (userId, ruleId) => serial(userId, () => remove(userId, ruleId)),
    removeAll,
  };
}
