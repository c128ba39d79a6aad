import { equal } from "node:assert/strict";
import { isolateCount } from "./_isolates.ts";

Deno.test("[start] isolates: DENO_JOBS, else one per core; one with KV in memory", () => {
  const file = { kvPath: "data/app.kv", kvUrl: undefined };
  equal(isolateCount(file, undefined, 3), 3);
  equal(isolateCount(file, "2", 8), 2);
  equal(isolateCount({ kvPath: ":memory:", kvUrl: undefined }, "4", 8), 1);
  equal(
    isolateCount({ kvPath: ":memory:", kvUrl: "http://kv" }, "4", 8),
    4,
    "a remote KV is shared",
  );
});
