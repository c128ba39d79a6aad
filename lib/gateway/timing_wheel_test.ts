import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { TimingWheel } from "./timing_wheel.ts";

/** Advances `wheel` to `now`, returning what was visited as `name@due`. */
function visitAt(wheel: TimingWheel<string>, now: number): string[] {
  const seen: string[] = [];
  wheel.advance(now, (item, due) => seen.push(`${item}@${due}`));
  return seen;
}

Deno.test("[wheel] visits items once due, in due order, never early", () => {
  const wheel = new TimingWheel<string>({ now: 1_000, tickMs: 50, slots: 64 });
  wheel.schedule("c", 1_130);
  wheel.schedule("a", 1_010);
  wheel.schedule("b", 1_049);
  wheel.schedule("d", 1_131);
  equal(wheel.size, 4);
  deepStrictEqual(visitAt(wheel, 1_009), [], "nothing is due yet");
  deepStrictEqual(visitAt(wheel, 1_049), ["a@1010", "b@1049"]);
  deepStrictEqual(visitAt(wheel, 1_129), []);
  deepStrictEqual(visitAt(wheel, 1_500), ["c@1130", "d@1131"], "several ticks at once, in order");
  equal(wheel.size, 0);
});

Deno.test("[wheel] ties keep schedule order; reschedule and cancel replace the due time", () => {
  const wheel = new TimingWheel<string>({ now: 0, tickMs: 10, slots: 8 });
  wheel.schedule("x", 25);
  wheel.schedule("y", 25);
  wheel.schedule("z", 25);
  wheel.schedule("x", 25); // moved after z
  wheel.schedule("y", 70);
  equal(wheel.dueAt("y"), 70);
  equal(wheel.cancel("z"), true);
  equal(wheel.cancel("z"), false);
  equal(wheel.dueAt("z"), undefined);
  deepStrictEqual(visitAt(wheel, 30), ["x@25"]);
  deepStrictEqual(visitAt(wheel, 80), ["y@70"]);
});

Deno.test("[wheel] items further than one revolution ahead wait for their round", () => {
  // 8 slots of 10 ms: one revolution is 80 ms; 5 and 165 share a slot.
  const wheel = new TimingWheel<string>({ now: 0, tickMs: 10, slots: 8 });
  wheel.schedule("near", 5);
  wheel.schedule("far", 165);
  deepStrictEqual(visitAt(wheel, 10), ["near@5"]);
  deepStrictEqual(visitAt(wheel, 90), [], "its slot came round, but it is not due");
  deepStrictEqual(visitAt(wheel, 164), []);
  deepStrictEqual(visitAt(wheel, 165), ["far@165"]);
});

Deno.test("[wheel] a jump of many revolutions visits every slot once", () => {
  const wheel = new TimingWheel<string>({ now: 0, tickMs: 10, slots: 8 });
  for (let i = 0; i < 20; i++) wheel.schedule(`i${i}`, i * 37);
  const seen = visitAt(wheel, 1_000_000_000);
  deepStrictEqual(seen, Array.from({ length: 20 }, (_, i) => `i${i}@${i * 37}`));
});

Deno.test("[wheel] overdue items and items rescheduled by the visitor come on the next advance", () => {
  const wheel = new TimingWheel<string>({ now: 500, tickMs: 50, slots: 16 });
  wheel.schedule("late", 100);
  let again = 0;
  deepStrictEqual(visitAt(wheel, 500), ["late@100"]);
  wheel.schedule("loop", 600);
  equal(
    wheel.advance(600, (item) => {
      again++;
      wheel.schedule(item, 600); // due now: not again in this call
    }),
    1,
  );
  equal(again, 1);
  deepStrictEqual(visitAt(wheel, 600), ["loop@600"]);
  deepStrictEqual(visitAt(wheel, 550), [], "time going back visits nothing");
});

Deno.test("[wheel] a visitor that throws does not hide the other due items", () => {
  const wheel = new TimingWheel<string>({ now: 0 });
  wheel.schedule("a", 1);
  wheel.schedule("b", 2);
  const seen: string[] = [];
  throws(
    () =>
      wheel.advance(10, (item) => {
        seen.push(item);
        if (item === "a") throw new Error("boom");
      }),
    /boom/,
  );
  deepStrictEqual(seen, ["a", "b"]);
  equal(wheel.size, 0);
});

Deno.test("[wheel] of 100 000 items spread over 25 s, one tick visits only the due ones", () => {
  const wheel = new TimingWheel<number>({ now: 0, tickMs: 50, slots: 4_096 });
  // 100 000 items spread over 25 s (a ping interval), like connections.
  for (let i = 0; i < 100_000; i++) wheel.schedule(i, (i * 25_000) / 100_000);
  let visited = 0;
  wheel.advance(50, () => visited++);
  equal(visited, 201, "items due in [0, 50] only");
  equal(wheel.size, 100_000 - 201);
});

Deno.test("[wheel] bad options are refused", () => {
  throws(() => new TimingWheel({ now: 0, tickMs: 0 }), /Cannot create a timing wheel/);
  throws(() => new TimingWheel({ now: 0, slots: 0 }), /Cannot create a timing wheel/);
});
