import { equal, match } from "node:assert/strict";
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  newPasswordProblem,
  normalizeUsername,
  usernameProblem,
} from "./rules.ts";

Deno.test("[auth] rules: valid usernames pass, case-insensitively", () => {
  for (const good of ["abc", "Alice_1", "a.b-c_d", "x".repeat(32), "0-9"]) {
    equal(usernameProblem(good), null, good);
    equal(normalizeUsername(good), good.toLowerCase());
  }
});

Deno.test("[auth] rules: control characters and HTML get a message of their own", () => {
  for (const name of ["bob\u0000", "tab\there", "new\nline", "del\u007f", "c1\u0085x"]) {
    match(usernameProblem(name) ?? "", /cannot contain control characters/, JSON.stringify(name));
  }
  for (const name of ["<script>", "<b>bob</b>", "a&b", 'say"hi', "it's", "back`tick"]) {
    match(usernameProblem(name) ?? "", /cannot contain HTML or quotes/, name);
  }
});

Deno.test("[auth] rules: length and character set", () => {
  match(usernameProblem("ab") ?? "", /must be 3 to 32 characters long/);
  match(usernameProblem("a".repeat(33)) ?? "", /must be 3 to 32 characters long/);
  match(usernameProblem("") ?? "", /must be 3 to 32 characters long/);
  for (const name of ["with space", "émile", "semi;colon", "slash/x"]) {
    match(usernameProblem(name) ?? "", /may only use letters a-z, digits 0-9/, name);
  }
});

Deno.test("[auth] rules: new passwords: length bounds", () => {
  equal(MIN_PASSWORD_LENGTH, 10);
  match(newPasswordProblem("Tr0ub4dor", "alice") ?? "", /at least 10 characters/);
  equal(newPasswordProblem("Tr0ub4dor&3", "alice"), null);
  equal(newPasswordProblem("v".repeat(MAX_PASSWORD_LENGTH - 1) + "w", "alice"), null);
  match(
    newPasswordProblem("x".repeat(MAX_PASSWORD_LENGTH + 1), "alice") ?? "",
    /at most 1024 characters/,
  );
});

Deno.test("[auth] rules: new passwords: not common, not the username", () => {
  for (
    const common of ["password123", "Password1234", "QWERTYUIOP", "sunshine2024!", "1234567890"]
  ) {
    match(newPasswordProblem(common, "alice") ?? "", /commonly used passwords/, common);
  }
  match(
    newPasswordProblem("alice-in-wonderland", "Alice-In-Wonderland") ?? "",
    /same as the username/,
  );
  equal(newPasswordProblem("alice-in-wonderland", "alice"), null, "containing it is fine");
});
