/**
 * `openKv` with write access to the KV file only (`--allow-write=<file>`), as a host that
 * grants nothing else runs it: the folder exists, creating it is not allowed, the open works.
 */
import { equal, rejects } from "node:assert/strict";
import { openKv } from "./open.ts";

const dir = Deno.makeTempDirSync({ prefix: "kv_open_" });
const file = `${dir}/kv.sqlite`;

Deno.test({
  name: "[kv] openKv needs write access to the KV file only, not to its folder",
  permissions: { read: [file], write: [file] },
  async fn() {
    const kv = await openKv({ path: file });
    try {
      await kv.set(["k"], 1);
      equal((await kv.get(["k"])).value, 1);
    } finally {
      kv.close();
    }
  },
});

Deno.test({
  name: "[kv] openKv without write access to the KV file still fails, naming the permission",
  permissions: { read: [dir], write: false },
  async fn() {
    // The folder's creation is skipped (not allowed); the open itself is refused.
    await rejects(
      openKv({ path: file }),
      (err) => err instanceof Deno.errors.NotCapable && /write access/.test(err.message),
    );
  },
});

Deno.test("[kv] clean-up", async () => {
  await Deno.remove(dir, { recursive: true });
});
