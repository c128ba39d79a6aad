import { useSignal } from "@preact/signals";
import type { WatchedAddress } from "../../lib/wallet/types.ts";
import { shortHex } from "../../lib/wallet/ui/format.ts";

/** Props of {@linkcode WatchList}. */
export interface WatchListProps {
  addresses: WatchedAddress[];
  selected: string | null;
  onSelect(address: string): void;
  /** Stops watching; rejects with the reason shown. */
  onRemove(address: string): Promise<void>;
}

function Entry(
  { entry, selected, onSelect, onRemove }: {
    entry: WatchedAddress;
    selected: boolean;
    onSelect(address: string): void;
    onRemove(address: string): Promise<void>;
  },
) {
  const confirming = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const name = entry.label || shortHex(entry.address);
  const remove = async () => {
    busy.value = true;
    error.value = null;
    try {
      await onRemove(entry.address);
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
      busy.value = false;
    }
  };
  return (
    <li class="watch-entry" data-address={entry.address} data-selected={String(selected)}>
      <a
        href={`/wallet?address=${entry.address}`}
        class="watch-pick"
        aria-current={selected ? "true" : undefined}
        onClick={(e) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          onSelect(entry.address);
        }}
      >
        <span class="watch-name">{name}</span>
        <code class="watch-addr" title={entry.address}>{shortHex(entry.address, 8, 6)}</code>
      </a>
      {confirming.value
        ? (
          <span class="watch-confirm" role="group" aria-label={`Stop watching ${name}?`}>
            <button
              type="button"
              class="chip-button chip-danger"
              data-testid="confirm-remove"
              disabled={busy.value}
              onClick={remove}
            >
              Remove
            </button>
            <button type="button" class="chip-button" onClick={() => confirming.value = false}>
              Keep
            </button>
          </span>
        )
        : (
          <button
            type="button"
            class="chip-button watch-remove"
            aria-label={`Remove ${name}`}
            data-testid="remove"
            onClick={() => confirming.value = true}
          >
            Remove
          </button>
        )}
      {error.value && <span class="field-error" role="alert">{error.value}</span>}
    </li>
  );
}

/** The watched addresses: pick one to see, or stop watching it (asked twice). */
export function WatchList({ addresses, selected, onSelect, onRemove }: WatchListProps) {
  return (
    <nav class="panel watch-list" aria-labelledby="watch-list-title">
      <h2 id="watch-list-title">Watched addresses</h2>
      {addresses.length === 0
        ? <p class="muted" data-testid="watch-empty">None yet: add one below.</p>
        : (
          <ul>
            {addresses.map((a) => (
              <Entry
                key={a.address}
                entry={a}
                selected={a.address === selected}
                onSelect={onSelect}
                onRemove={onRemove}
              />
            ))}
          </ul>
        )}
    </nav>
  );
}
