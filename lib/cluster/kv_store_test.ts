import { clusterConformance } from "./_conformance.ts";
import { createKvClusterStore } from "./kv_store.ts";

// Every isolate of the suite opens the same KV through its own store, as isolates of one
// process (or processes sharing a file) do.
clusterConformance("kv", async () => {
  const kv = await Deno.openKv(":memory:");
  const stores: { close(): Promise<void> }[] = [];
  return {
    store(isolate, now) {
      const store = createKvClusterStore({ kv, isolate, now });
      stores.push(store);
      return store;
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(stores.map((s) => s.close()));
      kv.close();
    },
  };
});
