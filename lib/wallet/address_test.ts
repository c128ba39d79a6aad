import { deepEqual, equal, match } from "node:assert/strict";
import { parseAddress } from "./address.ts";

const GOOD = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

Deno.test("[address] EIP-55: one case or a valid checksum; the problem is named", () => {
  deepEqual(parseAddress(GOOD), { ok: true, address: GOOD });
  deepEqual(parseAddress(GOOD.toLowerCase()), { ok: true, address: GOOD });
  deepEqual(parseAddress(`0x${GOOD.slice(2).toUpperCase()}`), { ok: true, address: GOOD });
  deepEqual(parseAddress(`  ${GOOD} `), { ok: true, address: GOOD });
  const typo = GOOD.replace("C51812", "c51812");
  const wrong = parseAddress(typo);
  equal(wrong.ok, false);
  if (!wrong.ok) {
    match(wrong.message, /Wrong checksum/);
    equal(wrong.message.includes(GOOD), false, "the corrected spelling is not suggested");
  }
  const cases: [unknown, RegExp][] = [
    [GOOD.slice(0, 41), /has 39 hex digits, expected 40/],
    [`${GOOD}00`, /has 42 hex digits/],
    [GOOD.replace("0x", ""), /must start with 0x/],
    ["0xZZ997970C51812dc3A010C7d01b50e0d17dc79C8", /characters other than hex digits/],
    [42, /must be a string/],
    ["0x" + "a".repeat(200), /too long/],
  ];
  for (const [input, why] of cases) {
    const r = parseAddress(input);
    equal(r.ok, false, String(input));
    if (!r.ok) match(r.message, why);
  }
});
