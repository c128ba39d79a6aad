/**
 * The bus conformance suite (lib/bus/conformance.ts) on the KV engine: each case on a KV
 * file of its own, each engine with its own handle on it (as isolates have).
 */
import { runBusConformance } from "./conformance.ts";
import { busPointerKey } from "../kv/keys.ts";
import { retryWhileLocked } from "../kv/open.ts";
import { createKvBus } from "./kv_bus.ts";

runBusConformance("kv", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-bus-" });
  const path = `${dir}/kv.sqlite`;
  const handles: Deno.Kv[] = [];
  const open = async () => {
    const kv = retryWhileLocked(await Deno.openKv(path));
    handles.push(kv);
    return kv;
  };
  return {
    async engine(options) {
      return await createKvBus({ kv: await open(), ...options });
    },
    async loseLogEntries(shard) {
      // The pointer moves past entries that are not there (expired before anyone read them).
      const kv = await open();
      const pointer = await kv.get<{ seq: number }>(busPointerKey(shard));
      await kv.set(busPointerKey(shard), { seq: (pointer.value?.seq ?? 0) + 3 });
    },
    async close() {
      for (const kv of handles) kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
