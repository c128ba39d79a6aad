import assert from "node:assert/strict";
import * as server from "./server.ts";
import * as runtime from "./runtime.ts";
import * as devModule from "./dev.ts";

Deno.test("[server] the public modules export Fresh's names and nothing else", () => {
  assert.deepEqual(Object.keys(server).sort(), [
    "createHandler",
    "defineApp",
    "defineLayout",
    "defineRoute",
    "start",
  ]);
  assert.deepEqual(Object.keys(runtime).sort(), ["Head", "IS_BROWSER", "asset"]);
  assert.deepEqual(Object.keys(devModule).sort(), ["build", "dev"]);
});
