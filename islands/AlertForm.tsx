import { useSignal } from "@preact/signals";
import { AlertFields } from "../components/alerts/AlertFields.tsx";
import {
  type AlertDraft,
  describeCondition,
  type DraftField,
  draftToBody,
  fieldOf,
  fieldSummary,
  isPriceCondition,
  newDraft,
} from "../lib/alerts/ui/form.ts";
import { pageAlertsApi, rulesChanged, useRules } from "../lib/alerts/ui/hooks.ts";
import type { AlertRule } from "../lib/alerts/types.ts";
import { ApiError } from "../lib/notifications/ui/api.ts";
import { quoteCurrency } from "../lib/prices/format.ts";

/** Props of {@linkcode AlertForm}. */
export interface AlertFormProps {
  userId: string;
  /** The pair, fixed (pair page); or the first of `symbols`. */
  symbol: string;
  /** Pairs to choose from (the /alerts page); none: `symbol` is fixed. */
  symbols?: string[];
  /** Current prices, to start the level at. */
  prices: Record<string, number>;
  /** Show this pair's existing rules under the form (pair page). */
  showRules?: boolean;
}

/** Words for a refusal without a field. */
function summaryOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return "Your session has ended. Sign in again to set alerts.";
    if (err.status === 0) return "The server could not be reached. Try again.";
    return err.message;
  }
  return "The alert could not be saved.";
}

const UNITS: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

function RulesHere({ rules, symbol }: { rules: AlertRule[]; symbol: string }) {
  const here = rules.filter((r) => isPriceCondition(r.condition) && r.condition.symbol === symbol);
  if (here.length === 0) return null;
  return (
    <div class="alert-here">
      <h3>Your alerts on {symbol}</h3>
      <ul data-testid="alert-here">
        {here.map((r) => (
          <li key={r.id} data-enabled={r.enabled ? "true" : "false"}>
            <span>{describeCondition(r.condition)}</span>
            <span class={`badge ${r.enabled ? "badge-ok" : "badge-warn"}`}>
              {r.enabled ? "active" : "paused"}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A price alert form: condition (crosses above / below, above / below, moves by % over a
 * window), once or every time with a cooldown, and priority. What the server refuses is
 * shown next to the field it names, with its reason.
 */
export default function AlertForm(
  { userId, symbol, symbols, prices, showRules = false }: AlertFormProps,
) {
  const draft = useSignal<AlertDraft>(newDraft(symbol, prices[symbol] ?? null));
  const errors = useSignal<Partial<Record<DraftField, string>>>({});
  const summary = useSignal<string | null>(null);
  const busy = useSignal(false);
  const created = useSignal<AlertRule | null>(null);
  const list = useRules(userId);
  const idPrefix = symbols ? "new-alert" : `alert-${symbol}`;
  const current = draft.value.symbol;
  const currency = quoteCurrency(current) ?? "";

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy.value) return;
    busy.value = true;
    summary.value = null;
    created.value = null;
    try {
      const rule = await pageAlertsApi().create(draftToBody(draft.value));
      errors.value = {};
      created.value = rule;
      rulesChanged();
    } catch (err) {
      const field = err instanceof ApiError ? fieldOf(err.field) : null;
      const reason = err instanceof ApiError ? err.reason ?? err.message : "";
      errors.value = field ? { [field]: reason } : {};
      summary.value = field ? fieldSummary(field, reason) : summaryOf(err);
    } finally {
      busy.value = false;
    }
  };

  // Another pair: its level starts at its own price.
  const pickSymbol = (next: string) => {
    const level = newDraft(next, prices[next] ?? null).level;
    draft.value = { ...draft.value, symbol: next, level: level || draft.value.level };
  };

  return (
    <section class="panel alert-form" aria-labelledby={`${idPrefix}-title`}>
      <h2 id={`${idPrefix}-title`}>{symbols ? "New price alert" : "Price alert"}</h2>
      <form
        noValidate
        onSubmit={submit}
        data-testid="alert-form"
        aria-describedby={summary.value ? `${idPrefix}-summary` : undefined}
      >
        <AlertFields
          draft={draft}
          errors={errors.value}
          idPrefix={idPrefix}
          symbols={symbols}
          onSymbol={pickSymbol}
          unit={UNITS[currency] ?? currency}
        />
        {summary.value && (
          <p class="form-error" role="alert" id={`${idPrefix}-summary`} data-testid="alert-error">
            {summary.value}
          </p>
        )}
        <div class="alert-submit">
          <button type="submit" class="button" disabled={busy.value} data-testid="alert-submit">
            {busy.value ? "Saving…" : "Create alert"}
          </button>
          {!symbols && <a href="/alerts">Manage alerts</a>}
        </div>
        <div role="status" class="alert-status">
          {created.value && (
            <p class="form-notice" data-testid="alert-created">
              Alert set: {describeCondition(created.value.condition)}
            </p>
          )}
        </div>
      </form>
      {showRules && list.status.value === "ready" && (
        <RulesHere rules={list.rules.value} symbol={symbol} />
      )}
    </section>
  );
}
