import assert from "node:assert/strict";
import { asset, IS_BROWSER } from "./runtime.ts";
import { getBuildId, setBuildId } from "./internal.ts";

function withBuildId(id: string, fn: () => void): void {
  const previous = getBuildId();
  setBuildId(id);
  try {
    fn();
  } finally {
    setBuildId(previous);
  }
}

Deno.test("[runtime] IS_BROWSER is false on the server", () => {
  assert.equal(IS_BROWSER, false);
});

Deno.test("[runtime] asset() adds the build id to absolute paths", () => {
  withBuildId("abc123", () => {
    assert.equal(asset("/styles.css"), "/styles.css?__frsh_c=abc123");
    assert.equal(asset("/img/a.png?w=2"), "/img/a.png?w=2&__frsh_c=abc123");
    assert.equal(asset("/icons.svg#menu"), "/icons.svg?__frsh_c=abc123#menu");
    assert.equal(asset("/a.css?v=1#x"), "/a.css?v=1&__frsh_c=abc123#x");
  });
});

Deno.test("[runtime] asset() leaves other URLs and marked paths unchanged", () => {
  withBuildId("abc123", () => {
    for (
      const path of [
        "styles.css",
        "./styles.css",
        "//cdn.example/a.css",
        "https://example.com/a.css",
        "data:,",
        "/a.css?__frsh_c=old",
        "/a.css?x=1&__frsh_c=old",
      ]
    ) {
      assert.equal(asset(path), path);
    }
  });
  withBuildId("", () => assert.equal(asset("/styles.css"), "/styles.css"));
});
