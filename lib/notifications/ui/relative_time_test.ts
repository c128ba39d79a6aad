import { equal } from "node:assert/strict";
import { formatRelative, nextChangeIn } from "./relative_time.ts";

const MIN = 60_000;

Deno.test("[notifications/ui] relative time: units and refresh", () => {
  const now = Date.UTC(2025, 5, 15, 12);
  equal(formatRelative(now - 10_000, now), "now");
  equal(formatRelative(now + 5_000, now), "now", "a clock ahead is now");
  equal(formatRelative(now - 3 * MIN, now), "3 min. ago");
  equal(formatRelative(now - 2 * 60 * MIN, now), "2 hr. ago");
  equal(formatRelative(now - 24 * 60 * MIN, now), "yesterday");
  equal(formatRelative(now - 14 * 24 * 60 * MIN, now), "2 wk. ago");
  equal(formatRelative(now - 60 * 24 * 60 * MIN, now), "Apr 16");
  equal(formatRelative(now - 3 * MIN, now, "de-DE"), "vor 3 Min.");
  equal(formatRelative(now - 3 * MIN, now, "not a locale!"), "3 min. ago");
  equal(nextChangeIn(now - 90_000, now), 30_000);
  equal(nextChangeIn(now, now), MIN);
});
