import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { parseAddress } from "../../lib/wallet/address.ts";
import { ApiError } from "../../lib/notifications/ui/api.ts";

/** Props of {@linkcode WatchForm}. */
export interface WatchFormProps {
  /** Addresses watched now, and at most. */
  count: number;
  max: number;
  /** Watches `address` (checksummed); rejects with an `ApiError` the form shows. */
  onWatch(address: string, label: string): Promise<void>;
}

/** Longest label the server keeps. */
const MAX_LABEL = 40;

/**
 * Adds a watched address: the address is checked here first (EIP-55: a mixed-case
 * address must carry a valid checksum — the same rule and words as the server), then
 * sent; the server's refusal is shown under the field it names.
 */
export function WatchForm({ count, max, onWatch }: WatchFormProps) {
  const address = useSignal("");
  const label = useSignal("");
  const addressError = useSignal<string | null>(null);
  const labelError = useSignal<string | null>(null);
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const addressInput = useRef<HTMLInputElement>(null);
  const labelInput = useRef<HTMLInputElement>(null);
  const full = count >= max;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy.value) return;
    addressError.value = labelError.value = formError.value = null;
    const parsed = parseAddress(address.value);
    if (!parsed.ok) {
      addressError.value = address.value.trim() === ""
        ? "Enter an address: 0x followed by 40 hex digits"
        : parsed.message;
      addressInput.current?.focus();
      return;
    }
    busy.value = true;
    try {
      await onWatch(parsed.address, label.value);
      address.value = "";
      label.value = "";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof ApiError ? err.code : "";
      if (code === "invalid_address") {
        addressError.value = message;
        addressInput.current?.focus();
      } else if (code === "invalid_label") {
        labelError.value = message;
        labelInput.current?.focus();
      } else formError.value = message;
    } finally {
      busy.value = false;
    }
  };

  return (
    <form class="panel watch-form" noValidate onSubmit={submit} data-testid="watch-form">
      <h2>Watch an address</h2>
      <div class="alert-field" data-invalid={addressError.value ? "true" : undefined}>
        <label for="watch-address">Address</label>
        <input
          ref={addressInput}
          id="watch-address"
          name="address"
          class="mono"
          placeholder="0x…"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          maxLength={100}
          value={address.value}
          onInput={(e) => address.value = (e.currentTarget as HTMLInputElement).value}
          aria-invalid={addressError.value ? "true" : undefined}
          aria-describedby={addressError.value ? "watch-address-error" : "watch-address-hint"}
        />
        {addressError.value
          ? (
            <span class="field-error" id="watch-address-error" data-testid="address-error">
              {addressError.value}
            </span>
          )
          : (
            <span class="field-hint" id="watch-address-hint">
              Any case; mixed case must be a valid EIP-55 checksum.
            </span>
          )}
      </div>
      <div class="alert-field" data-invalid={labelError.value ? "true" : undefined}>
        <label for="watch-label">Label (optional)</label>
        <input
          ref={labelInput}
          id="watch-label"
          name="label"
          autocomplete="off"
          placeholder="Savings, hot wallet…"
          maxLength={MAX_LABEL}
          value={label.value}
          onInput={(e) => label.value = (e.currentTarget as HTMLInputElement).value}
          aria-invalid={labelError.value ? "true" : undefined}
          aria-describedby={labelError.value ? "watch-label-error" : undefined}
        />
        {labelError.value && (
          <span class="field-error" id="watch-label-error" data-testid="label-error">
            {labelError.value}
          </span>
        )}
      </div>
      <div class="alert-submit">
        <button type="submit" class="button" disabled={busy.value || full}>
          {busy.value ? "Adding…" : "Watch"}
        </button>
        <span class="muted">
          {full ? `All ${max} used: remove one first` : `${count} of ${max}`}
        </span>
      </div>
      {formError.value && (
        <p class="form-error" role="alert" data-testid="watch-error">{formError.value}</p>
      )}
    </form>
  );
}
