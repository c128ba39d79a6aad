import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { AlertFields } from "../components/alerts/AlertFields.tsx";
import type { AlertRule } from "../lib/alerts/types.ts";
import {
  type AlertDraft,
  describeCondition,
  describeTrigger,
  type DraftField,
  draftFromRule,
  draftToBody,
  fieldOf,
  fieldSummary,
} from "../lib/alerts/ui/form.ts";
import { pageAlertsApi, rulesChanged, useRules } from "../lib/alerts/ui/hooks.ts";
import { MAX_RULES } from "../lib/alerts/ui/wire.ts";
import { ApiError } from "../lib/notifications/ui/api.ts";
import { browserLocale } from "../lib/notifications/ui/hooks.ts";
import { formatFull, formatRelative } from "../lib/notifications/ui/relative_time.ts";
import { quoteCurrency } from "../lib/prices/format.ts";

/** Props of {@linkcode AlertRules}. */
export interface AlertRulesProps {
  userId: string;
}

/** Rules the server keeps per user (shown as "3 of 50"). */
const LIMIT = MAX_RULES;
const UNITS: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

function statusOf(rule: AlertRule, now: number): "active" | "paused" | "expired" {
  if (rule.expiresAt !== undefined && rule.expiresAt <= now) return "expired";
  return rule.enabled ? "active" : "paused";
}

function RuleEditor({ rule, onDone }: { rule: AlertRule; onDone(): void }) {
  const start = draftFromRule(rule);
  if (!start) return <p class="muted">Only price alerts can be edited here.</p>;
  return <RuleEditorForm rule={rule} start={start} onDone={onDone} />;
}

function RuleEditorForm(
  { rule, start, onDone }: { rule: AlertRule; start: AlertDraft; onDone(): void },
) {
  const current = useSignal<AlertDraft>(start);
  const errors = useSignal<Partial<Record<DraftField, string>>>({});
  const summary = useSignal<string | null>(null);
  const busy = useSignal(false);
  const currency = quoteCurrency(current.value.symbol) ?? "";
  const save = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    summary.value = null;
    try {
      const body = draftToBody(current.value);
      // An emptied note clears the rule's name.
      if (body.name === undefined && rule.name) body.name = null;
      await pageAlertsApi().update(rule.id, body);
      rulesChanged();
      onDone();
    } catch (err) {
      const field = err instanceof ApiError ? fieldOf(err.field) : null;
      const reason = err instanceof ApiError ? err.reason ?? err.message : "";
      errors.value = field ? { [field]: reason } : {};
      summary.value = field
        ? fieldSummary(field, reason)
        : err instanceof Error
        ? err.message
        : "The alert could not be saved.";
    } finally {
      busy.value = false;
    }
  };
  return (
    <form class="rule-editor" noValidate onSubmit={save} data-testid="rule-editor">
      <AlertFields
        draft={current}
        errors={errors.value}
        idPrefix={`edit-${rule.id}`}
        unit={UNITS[currency] ?? currency}
      />
      {summary.value && <p class="form-error" role="alert">{summary.value}</p>}
      <div class="alert-submit">
        <button type="submit" class="button" disabled={busy.value}>
          {busy.value ? "Saving…" : "Save"}
        </button>
        <button type="button" class="link-button" onClick={onDone}>Cancel</button>
      </div>
    </form>
  );
}

/**
 * The signed-in user's alert rules: what each watches, how it fires, whether it is
 * active, paused or expired, when it last fired; pause / resume, edit and delete. The
 * list follows firings live (a `price_alert` arriving re-reads it).
 */
export default function AlertRules({ userId }: AlertRulesProps) {
  const list = useRules(userId);
  const editing = useSignal<string | null>(null);
  const confirming = useSignal<string | null>(null);
  const busy = useSignal<string | null>(null);
  const notice = useSignal<string | null>(null);
  const now = useSignal(Date.now());
  const locale = useSignal("en-US");

  useEffect(() => {
    locale.value = browserLocale();
    const timer = setInterval(() => now.value = Date.now(), 30_000);
    return () => clearInterval(timer);
  }, []);

  const act = async (rule: AlertRule, what: () => Promise<unknown>, done: string) => {
    busy.value = rule.id;
    notice.value = null;
    try {
      await what();
      notice.value = done;
      rulesChanged();
    } catch (err) {
      notice.value = `That did not work: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      busy.value = null;
      confirming.value = null;
    }
  };
  const toggle = (rule: AlertRule) =>
    act(
      rule,
      () => pageAlertsApi().update(rule.id, { enabled: !rule.enabled }),
      `${rule.enabled ? "Paused" : "Resumed"}: ${describeCondition(rule.condition)}`,
    );
  const remove = (rule: AlertRule) =>
    act(
      rule,
      () => pageAlertsApi().remove(rule.id),
      `Deleted: ${describeCondition(rule.condition)}`,
    );

  const rules = [...list.rules.value].sort((a, b) => b.createdAt - a.createdAt);
  const loc = locale.value;
  return (
    <section class="rules" aria-labelledby="rules-title">
      <div class="rules-head">
        <h2 id="rules-title">Your alerts</h2>
        {list.status.value === "ready" && (
          <span class="muted" data-testid="rule-count">{rules.length} of {LIMIT}</span>
        )}
      </div>
      <div role="status" class="rules-notice">
        {notice.value && <p class="muted" data-testid="rule-notice">{notice.value}</p>}
      </div>
      {list.error.value && <p class="form-error">{list.error.value}</p>}
      {list.status.value === "loading" && <p class="muted">Loading your alerts…</p>}
      {list.status.value === "ready" && rules.length === 0 && (
        <div class="rules-empty" data-testid="rules-empty">
          <p class="nc-empty-title">No alerts yet</p>
          <p class="muted">
            Create one below, or from any pair's page: you will be notified here, in the bell and as
            a toast when it fires.
          </p>
        </div>
      )}
      <ul class="rule-list" data-testid="rule-list">
        {rules.map((rule) => {
          const status = statusOf(rule, now.value);
          const text = describeCondition(rule.condition, loc);
          const busyHere = busy.value === rule.id;
          return (
            <li
              key={rule.id}
              class="rule"
              data-id={rule.id}
              data-status={status}
              data-testid="rule"
            >
              <div class="rule-main">
                <p class="rule-title">{text}</p>
                {rule.name && <p class="rule-name muted">{rule.name}</p>}
                <p class="rule-meta">
                  <span
                    class={`badge ${status === "active" ? "badge-ok" : "badge-warn"}`}
                    data-testid="rule-status"
                  >
                    {status}
                  </span>
                  <span>{describeTrigger(rule)}</span>
                  <span aria-hidden="true">·</span>
                  <span class={`nc-tag nc-tag-${rule.priority}`}>{rule.priority}</span>
                </p>
              </div>
              <p class="rule-fired" data-testid="rule-fired">
                {rule.lastFiredAt !== undefined
                  ? (
                    <>
                      <span class="muted">Last fired</span>{" "}
                      <time
                        dateTime={new Date(rule.lastFiredAt).toISOString()}
                        title={formatFull(rule.lastFiredAt, loc)}
                      >
                        {formatRelative(rule.lastFiredAt, now.value, loc)}
                      </time>
                      {rule.firedCount > 1 && <span class="muted">· {rule.firedCount} times</span>}
                    </>
                  )
                  : <span class="muted">Never fired</span>}
              </p>
              <div class="rule-actions">
                {confirming.value === rule.id
                  ? (
                    <>
                      <span>Delete this alert?</span>
                      <button
                        type="button"
                        class="button danger-button"
                        disabled={busyHere}
                        data-testid="rule-confirm-delete"
                        onClick={() => void remove(rule)}
                      >
                        Delete
                      </button>
                      <button
                        type="button"
                        class="link-button"
                        onClick={() => confirming.value = null}
                      >
                        Keep
                      </button>
                    </>
                  )
                  : (
                    <>
                      <button
                        type="button"
                        class="chip-button"
                        disabled={busyHere || status === "expired"}
                        data-testid="rule-toggle"
                        aria-label={`${rule.enabled ? "Pause" : "Resume"}: ${text}`}
                        onClick={() => void toggle(rule)}
                      >
                        {rule.enabled ? "Pause" : "Resume"}
                      </button>
                      <button
                        type="button"
                        class="chip-button"
                        aria-expanded={editing.value === rule.id}
                        aria-label={`Edit: ${text}`}
                        data-testid="rule-edit"
                        onClick={() => editing.value = editing.value === rule.id ? null : rule.id}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="chip-button chip-danger"
                        aria-label={`Delete: ${text}`}
                        data-testid="rule-delete"
                        onClick={() => confirming.value = rule.id}
                      >
                        Delete
                      </button>
                    </>
                  )}
              </div>
              {editing.value === rule.id && (
                <RuleEditor
                  rule={rule}
                  onDone={() => editing.value = null}
                />
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
