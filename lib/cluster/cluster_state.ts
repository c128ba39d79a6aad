/**
 * Everything one isolate shares with the rest of the cluster, on the selected engine
 * (Deno KV, or Redis when `REDIS_URL` is set): liveness (state.ts), presence
 * (presence.ts), per-user connection caps (slots.ts), the failed-sign-in counters
 * (`attempts`, for lib/auth/login_limiter.ts) and the singleton leases (`leases`).
 *
 * Per-address upgrade rates stay per isolate (lib/gateway/admission.ts): they guard the
 * isolate's own CPU against a burst, must answer before any I/O, and a shared counter
 * would add a store round trip to every upgrade, including the ones it refuses.
 *
 * @module
 */
import type { AttemptStore } from "../auth/attempts.ts";
import type { Leases } from "../kv/lease.ts";
import { type ClusterPresence, createClusterPresence } from "./presence.ts";
import { type ConnectionSlots, createConnectionSlots } from "./slots.ts";
import { type Cluster, type ClusterLog, type ClusterStats, createCluster } from "./state.ts";
import type { ClusterEngine, ClusterStore } from "./types.ts";

/** Options of {@linkcode createClusterState}. */
export interface ClusterStateOptions {
  /** The engine's store (kv_store.ts or redis_store.ts). */
  store: ClusterStore;
  /** This isolate's id, unique in the cluster. */
  isolate: string;
  /** Users listed per presence channel (`WS_MAX_PRESENCE_MEMBERS`). */
  maxPresenceMembers: number;
  /** Liveness beat, ms. Default 2 000. */
  beatMs?: number;
  /** An isolate is dead this long after its last beat, ms. Default 5 × `beatMs`. */
  ttlMs?: number;
  /** How often presence change counters are polled, ms. Default 500. */
  presencePollMs?: number;
  now?: () => number;
  log?: ClusterLog;
}

/** What {@linkcode ClusterState.stats} reports (for `/api/websocket/status`). */
export interface ClusterStateStats extends ClusterStats {
  presence: ReturnType<ClusterPresence["stats"]>;
  slots: ReturnType<ConnectionSlots["stats"]>;
}

/** One isolate's share of the cluster's state. */
export interface ClusterState {
  readonly engine: ClusterEngine;
  readonly isolate: string;
  readonly cluster: Cluster;
  /** For the hub: `presence: state.presence.tracker`. */
  readonly presence: ClusterPresence;
  /** For the admission (`slots`) and the hub (`observer`). */
  readonly slots: ConnectionSlots;
  /** For the login limiter (`loginAttempts` of lib/auth). */
  readonly attempts: AttemptStore;
  /** For the market, chain and alert engines. */
  readonly leases: Leases;
  stats(): ClusterStateStats;
  /** Stops everything and removes this isolate's entries from the store. Idempotent. */
  close(): Promise<void>;
}

/** Registers this isolate (its first beat) and returns its cluster state. */
export async function createClusterState(options: ClusterStateOptions): Promise<ClusterState> {
  const { store, isolate, now, log } = options;
  const cluster = createCluster({
    store,
    isolate,
    beatMs: options.beatMs,
    ttlMs: options.ttlMs,
    now,
    log,
  });
  // Registered before any entry of this isolate exists, so no entry is ever an orphan.
  await cluster.start();
  const presence = createClusterPresence({
    cluster,
    maxMembers: options.maxPresenceMembers,
    pollMs: options.presencePollMs,
    log,
  });
  const slots = createConnectionSlots({ cluster, now, log });
  let closed: Promise<void> | undefined;
  return {
    engine: store.engine,
    isolate,
    cluster,
    presence,
    slots,
    attempts: store.attempts,
    leases: store.leases,
    stats: () => ({ ...cluster.stats(), presence: presence.stats(), slots: slots.stats() }),
    close() {
      closed ??= (async () => {
        await presence.close();
        await slots.close();
        await cluster.close();
      })();
      return closed;
    },
  };
}
