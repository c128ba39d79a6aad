/**
 * The bus conformance suite (lib/bus/conformance.ts) on the Redis engine: each case on a
 * redis-server of its own (no persistence), each engine with its own connections to it
 * (as processes have). Skipped, saying so, where redis-server is not installed.
 */
import { runBusConformance } from "./conformance.ts";
import { closeRedis, openRedis } from "./redis.ts";
import { createRedisBus } from "./redis_bus.ts";
import { haveRedisServer, NO_REDIS_SERVER, startRedis } from "../../tests/_redis.ts";

const available = await haveRedisServer();
if (!available) console.warn(NO_REDIS_SERVER);

runBusConformance("redis", async () => {
  const redis = await startRedis();
  const prefix = "rt:bus:";
  return {
    async engine(options) {
      return await createRedisBus({ url: redis.url, prefix, ...options });
    },
    async loseLogEntries(shard) {
      // The shard's sequence jumps, as when entries were trimmed before a reader got them.
      const client = await openRedis(redis.url);
      try {
        await client.hincrby(`${prefix}seq`, String(shard), 3);
      } finally {
        await closeRedis(client);
      }
    },
    close: () => redis.stop(),
  };
}, { ignore: !available, sanitize: true });
