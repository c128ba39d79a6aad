import type { Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import {
  type AlertDraft,
  type DraftField,
  PRICE_KINDS,
  PRIORITY_CHOICES,
  WINDOWS,
} from "../../lib/alerts/ui/form.ts";

/** Props of {@linkcode AlertFields}. */
export interface AlertFieldsProps {
  draft: Signal<AlertDraft>;
  /** The server's reason per field. */
  errors: Partial<Record<DraftField, string>>;
  /** Unique per form in the page: the prefix of every id. */
  idPrefix: string;
  /** Pairs to choose from; without it the draft's symbol is fixed. */
  symbols?: readonly string[];
  /** Currency symbol or code shown by the level ("$"). */
  unit?: string;
  /** Called instead of setting the symbol when another pair is chosen. */
  onSymbol?(symbol: string): void;
}

function Field(
  { id, label, error, children, class: cls }: {
    id: string;
    label: string;
    error?: string;
    children: ComponentChildren;
    class?: string;
  },
) {
  return (
    <div class={`alert-field${cls ? ` ${cls}` : ""}`} data-invalid={error ? "true" : undefined}>
      <label for={id}>{label}</label>
      {children}
      {error && <small class="field-error" id={`${id}-error`}>{error}</small>}
    </div>
  );
}

/**
 * The fields of a price alert, laid out as a sentence ("BTC-USD crosses above 70,000,
 * once, priority high"). Each field a server refusal names is marked invalid and shows
 * the reason under it (read with the field).
 */
export function AlertFields(
  { draft, errors, idPrefix, symbols, unit, onSymbol }: AlertFieldsProps,
) {
  const d = draft.value;
  const set = <K extends keyof AlertDraft>(key: K, value: AlertDraft[K]) =>
    draft.value = { ...draft.value, [key]: value };
  const text = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
  const id = (name: string) => `${idPrefix}-${name}`;
  const aria = (name: DraftField) =>
    errors[name]
      ? { "aria-invalid": "true" as const, "aria-describedby": `${id(name)}-error` }
      : {};
  return (
    <div class="alert-fields">
      {symbols && (
        <Field id={id("symbol")} label="Pair" error={errors.symbol}>
          <select
            id={id("symbol")}
            name="symbol"
            value={d.symbol}
            onChange={(e) => onSymbol ? onSymbol(text(e)) : set("symbol", text(e))}
            {...aria("symbol")}
          >
            {symbols.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </Field>
      )}
      <Field id={id("kind")} label={symbols ? "When the price" : `When ${d.symbol}`}>
        <select
          id={id("kind")}
          name="kind"
          value={d.kind}
          onChange={(e) => set("kind", text(e) as AlertDraft["kind"])}
          {...aria("kind")}
        >
          {PRICE_KINDS.map((k) => <option key={k.id} value={k.id}>{k.label}</option>)}
        </select>
      </Field>
      {d.kind === "change_pct"
        ? (
          <>
            <Field id={id("pct")} label="Percent" error={errors.pct} class="alert-field-num">
              <span class="alert-input-unit" data-unit="%">
                <input
                  id={id("pct")}
                  name="pct"
                  inputMode="decimal"
                  autocomplete="off"
                  value={d.pct}
                  onInput={(e) => set("pct", text(e))}
                  {...aria("pct")}
                />
                <span aria-hidden="true">%</span>
              </span>
            </Field>
            <Field id={id("window")} label="Within" error={errors.window}>
              <select
                id={id("window")}
                name="window"
                value={d.window}
                onChange={(e) => set("window", text(e) as AlertDraft["window"])}
                {...aria("window")}
              >
                {WINDOWS.map((w) => <option key={w.id} value={w.id}>{w.label}</option>)}
              </select>
            </Field>
          </>
        )
        : (
          <Field id={id("level")} label="Price" error={errors.level} class="alert-field-num">
            <span class="alert-input-unit">
              {unit && <span aria-hidden="true">{unit}</span>}
              <input
                id={id("level")}
                name="level"
                inputMode="decimal"
                autocomplete="off"
                value={d.level}
                onInput={(e) => set("level", text(e))}
                {...aria("level")}
              />
            </span>
          </Field>
        )}
      <Field id={id("mode")} label="Notify" error={errors.mode}>
        <select
          id={id("mode")}
          name="mode"
          value={d.mode}
          onChange={(e) => set("mode", text(e) as AlertDraft["mode"])}
          {...aria("mode")}
        >
          <option value="once">Once</option>
          <option value="every">Every time</option>
        </select>
      </Field>
      {d.mode === "every" && (
        <Field
          id={id("cooldownMin")}
          label="At most every (min)"
          error={errors.cooldownMin}
          class="alert-field-num"
        >
          <input
            id={id("cooldownMin")}
            name="cooldownMin"
            inputMode="decimal"
            autocomplete="off"
            value={d.cooldownMin}
            onInput={(e) => set("cooldownMin", text(e))}
            {...aria("cooldownMin")}
          />
        </Field>
      )}
      <Field id={id("priority")} label="Priority" error={errors.priority}>
        <select
          id={id("priority")}
          name="priority"
          value={d.priority}
          onChange={(e) => set("priority", text(e) as AlertDraft["priority"])}
          {...aria("priority")}
        >
          {PRIORITY_CHOICES.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
        </select>
      </Field>
      <Field id={id("name")} label="Note (optional)" error={errors.name} class="alert-field-note">
        <input
          id={id("name")}
          name="name"
          maxLength={80}
          autocomplete="off"
          placeholder="e.g. take profit"
          value={d.name}
          onInput={(e) => set("name", text(e))}
          {...aria("name")}
        />
      </Field>
    </div>
  );
}
