import assert from "node:assert/strict";
import { getBuildId, isDevMode, setBuildId, setDevMode } from "./internal.ts";

Deno.test("[internal] build id and dev mode are process-wide settings", () => {
  const id = getBuildId();
  const dev = isDevMode();
  try {
    setBuildId("x1");
    assert.equal(getBuildId(), "x1");
    setDevMode(true);
    assert.equal(isDevMode(), true);
    setDevMode(false);
    assert.equal(isDevMode(), false);
  } finally {
    setBuildId(id);
    setDevMode(dev);
  }
});
