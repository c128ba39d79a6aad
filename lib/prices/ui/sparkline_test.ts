import { deepEqual, equal, match } from "node:assert/strict";
import { sparkline, sparkValues } from "./sparkline.ts";

Deno.test("[prices/ui] sparkline: scaled into the box, trend and change", () => {
  const s = sparkline([10, 20, 15, 30], 90, 30, 0);
  equal(s.d, "M0 30L30 15L60 22.5L90 0");
  equal(s.trend, "up");
  equal(s.changePct, 200);
  const down = sparkline([2, 1], 10, 10, 1);
  equal(down.d, "M0 1L10 9");
  equal(down.trend, "down");
  equal(sparkline([5, 5, 5], 10, 10).d, "M0 5L5 5L10 5", "flat: through the middle");
  deepEqual(sparkline([1], 10, 10), { d: "", trend: "flat", changePct: 0 });
  equal(sparkline([1, Number.NaN, 3], 10, 10, 0).d, "M0 10L10 0", "non-finite points skipped");
  // Every coordinate stays inside the box.
  const many = sparkline(Array.from({ length: 500 }, (_, i) => Math.sin(i) * 100), 96, 28, 2);
  for (const [, x, y] of many.d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)) {
    const [nx, ny] = [Number(x), Number(y)];
    equal(nx >= 0 && nx <= 96 && ny >= 2 && ny <= 26, true, `${nx},${ny}`);
  }
  match(many.d, /^M0 /);
});

Deno.test("[prices/ui] sparkline: closes plus the live price", () => {
  const c = (t: number, close: number) => ({
    t,
    o: close,
    h: close,
    l: close,
    c: close,
    v: 1,
    n: 1,
  });
  deepEqual(sparkValues([c(1, 5), c(2, 6)], 7), [5, 6, 7]);
  deepEqual(sparkValues([c(1, 5)], Number.NaN), [5]);
});
