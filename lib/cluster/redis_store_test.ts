/**
 * The cluster conformance suite (_conformance.ts) on Redis: each case on a redis-server of
 * its own, each isolate with its own connection to it (as processes have). Skipped,
 * saying so, where redis-server is not installed.
 */
import { closeRedis, openRedis, type RedisClient } from "../bus/redis.ts";
import { haveRedisServer, NO_REDIS_SERVER, startRedis } from "../../tests/_redis.ts";
import { clusterConformance } from "./_conformance.ts";
import { createRedisClusterStore } from "./redis_store.ts";

const available = await haveRedisServer();
if (!available) console.warn(NO_REDIS_SERVER);

clusterConformance("redis", async () => {
  const server = await startRedis();
  const clients: RedisClient[] = [];
  return {
    async store(isolate, now) {
      const redis = await openRedis(server.url, { connectionName: `cluster-${isolate}` });
      clients.push(redis);
      return createRedisClusterStore({ redis, isolate, now });
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => closeRedis(c)));
      await server.stop();
    },
  };
}, { ignore: !available });
