import { equal, throws } from "node:assert/strict";
import { benchArgs } from "./_args.ts";

Deno.test("[bench args] --k=v, --k v and bare flags; integers checked against their range", () => {
  const a = benchArgs(["--seconds=30", "--blocks", "12", "--no-ws", "--jobs=2"]);
  equal(a.int("seconds", 40, 5, 600), 30);
  equal(a.int("blocks", 50, 5, 500), 12);
  equal(a.int("poll-ms", 1_000, 50, 60_000), 1_000, "absent: the fallback");
  equal(a.has("no-ws"), true);
  equal(a.has("build"), false);
  throws(
    () => a.int("jobs", 1, 3, 16),
    /Cannot read --jobs: expected an integer in \[3, 16\], got "2"/,
  );
  throws(() => a.int("no-ws", 1, 0, 9), /got ""/, "a bare flag is not a number");
  throws(() => benchArgs(["--seconds=1e9x"]).int("seconds", 1, 1, 10), /--seconds/);
});
