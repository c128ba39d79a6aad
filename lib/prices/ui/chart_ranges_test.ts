import { deepEqual, equal } from "node:assert/strict";
import { DEFAULT_VIEW, rangeStart, withInterval, withRange } from "./chart_ranges.ts";

Deno.test("[prices/ui] chart ranges: a range picks an interval it can be drawn with", () => {
  deepEqual(withRange(DEFAULT_VIEW, "1d"), { interval: "1m", range: "1d" });
  deepEqual(withRange(DEFAULT_VIEW, "30d"), { interval: "1h", range: "30d" }, "no 30 d of 1 m");
  deepEqual(withRange({ interval: "1h", range: "7d" }, "1h"), { interval: "1m", range: "1h" });
  deepEqual(withInterval({ interval: "1m", range: "1d" }, "1h"), { interval: "1h", range: "1d" });
  deepEqual(withInterval({ interval: "1h", range: "30d" }, "1m"), { interval: "1m", range: "6h" });
  deepEqual(withInterval({ interval: "1m", range: "1h" }, "1h"), { interval: "1h", range: "7d" });
  equal(rangeStart({ interval: "1h", range: "7d" }, 10 * 86_400_000), 3 * 86_400_000);
});
