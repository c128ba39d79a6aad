import { equal, ok } from "node:assert/strict";
import { COMMON_PASSWORD_COUNT, isCommonPassword } from "./common_passwords.ts";

Deno.test("[auth] common passwords: a few hundred, compared in lowercase", () => {
  ok(COMMON_PASSWORD_COUNT >= 300, `${COMMON_PASSWORD_COUNT} entries`);
  for (const p of ["123456", "password", "qwertyuiop", "Password123", "ILOVEYOU", "1q2w3e4r5t"]) {
    equal(isCommonPassword(p), true, p);
  }
});

Deno.test("[auth] common passwords: digits or symbols around a listed word count", () => {
  for (const p of ["monkey2024", "!!dragon!!", "2024football", "Sunshine_1"]) {
    equal(isCommonPassword(p), true, p);
  }
  equal(isCommonPassword("abc1"), false, "a core under four letters is not matched");
  for (const p of ["correct horse battery", "ZebraLampOrbit", "monkeyshines9", "4815x16y23"]) {
    equal(isCommonPassword(p), false, p);
  }
});
