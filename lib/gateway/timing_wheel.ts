/**
 * A hashed timing wheel: many items, each due at some time, driven by one short-period
 * tick instead of a timer per item (Varghese & Lauck's scheme 4).
 *
 * Time is cut into slots of `tickMs`; an item due at `t` sits in slot
 * `floor(t / tickMs) mod slots`. {@linkcode TimingWheel.advance} visits only the slots
 * of the ticks that passed since the last call and takes out the items that are due, so
 * a tick costs O(due + what shares those slots), not O(all items). Items due more than
 * one revolution (`slots × tickMs`) ahead share a slot with nearer ones and are looked
 * at once per revolution. `schedule` and `cancel` are O(1).
 *
 * Precision: an item is visited by the first `advance(now)` with `now >= dueAt`; with
 * `advance` called every `tickMs`, that is at most one tick (plus the timer's own
 * lateness) after it is due, never before.
 */

/** Options of {@linkcode TimingWheel}. */
export interface TimingWheelOptions {
  /** The current time (the wheel's start), ms. */
  now: number;
  /** Width of a slot, ms. Default 50. */
  tickMs?: number;
  /** Number of slots (one revolution is `slots × tickMs`). Default 4 096 (≈ 205 s). */
  slots?: number;
}

/** Items due at a time, visited in due order once due. */
export class TimingWheel<T> {
  readonly tickMs: number;
  #slots: (Map<T, number> | undefined)[];
  /** item → its slot index. */
  #where = new Map<T, number>();
  /** Everything due at or before this time has been visited. */
  #at: number;

  constructor(options: TimingWheelOptions) {
    this.tickMs = options.tickMs ?? 50;
    const slots = options.slots ?? 4_096;
    if (!(this.tickMs > 0) || !Number.isInteger(slots) || slots < 1) {
      throw new RangeError(
        `Cannot create a timing wheel: tickMs ${this.tickMs} and slots ${slots} must be positive`,
      );
    }
    this.#slots = new Array(slots);
    this.#at = options.now;
  }

  /** Items scheduled. */
  get size(): number {
    return this.#where.size;
  }

  /** When `item` is due, or undefined when it is not scheduled. */
  dueAt(item: T): number | undefined {
    const slot = this.#where.get(item);
    return slot === undefined ? undefined : this.#slots[slot]!.get(item);
  }

  /**
   * Schedules `item` at `dueAt` (ms), replacing its previous due time. An item already
   * overdue is visited by the next `advance`.
   */
  schedule(item: T, dueAt: number): void {
    this.cancel(item);
    // Overdue items go to the slot of the last advance, which the next one visits first.
    const slot = this.#slotOf(Math.max(dueAt, this.#at));
    let items = this.#slots[slot];
    if (!items) this.#slots[slot] = items = new Map();
    items.set(item, dueAt);
    this.#where.set(item, slot);
  }

  /** Unschedules `item`; false when it was not scheduled. */
  cancel(item: T): boolean {
    const slot = this.#where.get(item);
    if (slot === undefined) return false;
    this.#where.delete(item);
    const items = this.#slots[slot]!;
    items.delete(item);
    if (items.size === 0) this.#slots[slot] = undefined;
    return true;
  }

  /**
   * Moves the wheel to `now` and calls `visit` for every item due at or before it, in due
   * order (ties in schedule order). Visited items are unscheduled first: `visit` may
   * schedule them again (a time at or before `now` makes them due on the next call).
   * Returns how many were visited. A `now` before the last one visits nothing.
   */
  advance(now: number, visit: (item: T, dueAt: number) => void): number {
    if (now < this.#at) return 0;
    const first = Math.floor(this.#at / this.tickMs);
    const last = Math.floor(now / this.tickMs);
    const ticks = Math.min(last - first + 1, this.#slots.length);
    const due: [T, number][] = [];
    for (let i = 0; i < ticks; i++) {
      const slot = this.#index(first + i);
      const items = this.#slots[slot];
      if (!items) continue;
      for (const [item, at] of items) {
        if (at > now) continue;
        due.push([item, at]);
        items.delete(item);
        this.#where.delete(item);
      }
      if (items.size === 0) this.#slots[slot] = undefined;
    }
    this.#at = now;
    if (due.length > 1) due.sort((a, b) => a[1] - b[1]);
    let failure: { error: unknown } | null = null;
    for (const [item, at] of due) {
      try {
        visit(item, at);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return due.length;
  }

  #slotOf(time: number): number {
    return this.#index(Math.floor(time / this.tickMs));
  }

  #index(tick: number): number {
    const n = this.#slots.length;
    return ((tick % n) + n) % n;
  }
}
