import type { ActivityItem } from "../../lib/wallet/types.ts";
import { statusText } from "../../lib/wallet/ui/format.ts";

/** Segments of the confirmation meter at most (one per confirmation up to this). */
const MAX_SEGMENTS = 12;

/** The confirmations so far as filled segments (decoration: the text says the count). */
function Meter({ count, required }: { count: number; required: number }) {
  const segments = Math.max(1, Math.min(required, MAX_SEGMENTS));
  const filled = Math.min(segments, Math.floor((count / required) * segments));
  return (
    <span class="wchip-meter" aria-hidden="true">
      {Array.from({ length: segments }, (_, i) => <span key={i} data-on={String(i < filled)} />)}
    </span>
  );
}

/**
 * An item's status as a chip — pending, "n / N confirmations" (with a meter), confirmed,
 * failed, dropped, replaced, reorged — its explanation in `title` and for screen readers.
 */
export function StatusChip({ item, required }: { item: ActivityItem; required: number }) {
  const s = statusText(item, required);
  const counting = item.status === "included";
  return (
    <span
      class={`wchip wchip-${s.tone}`}
      data-testid="status"
      data-status={item.status}
      data-confirmations={item.confirmations}
      title={s.detail}
    >
      {item.status === "pending" && <span class="wchip-pulse" aria-hidden="true"></span>}
      <span class="wchip-text">{s.text}</span>
      {counting && <Meter count={item.confirmations} required={required} />}
    </span>
  );
}
