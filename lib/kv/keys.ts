/**
 * Every Deno KV key the application uses is built here, so the key space is
 * documented in one place and no module invents keys of its own.
 *
 * | key                             | value                             | written by           |
 * | ------------------------------- | --------------------------------- | -------------------- |
 * | `["prices", "board"]`           | {@linkcode PriceBoard}            | market producer      |
 * | `["candle", symbol, interval, slot]` | `StoredCandle`; `slot` = interval index mod the kept count (1 500 × 1 m, 744 × 1 h), `expireIn` | lib/prices/candles.ts |
 * | `["lease", name]`               | {@linkcode LeaseRecord}           | lease holders        |
 * | `["account", userId]`           | `StoredAccount` (lib/auth)        | lib/auth/accounts.ts |
 * | `["account_by_username", name]` | userId; unique, `name` lowercased | lib/auth/accounts.ts |
 * | `["session", sessionId]`        | `SessionRecord`, with `expireIn`  | lib/auth/sessions.ts |
 * | `["session_by_user", userId, sessionId]` | `SessionRecord`; the index of a user's sessions, same commit and `expireIn` | lib/auth/sessions.ts |
 * | `["auth", "secret"]`            | token-signing secret (32 bytes)   | lib/auth/secret.ts   |
 * | `["bus", "head", channel]`      | `ChannelHead` {epoch, offset, ts}; `expireIn` as its history (+1 min), written with each message | lib/bus/kv_bus.ts |
 * | `["bus", "h", channel, offset]` | `BusMessage`, with `expireIn`     | lib/bus/kv_bus.ts    |
 * | `["bus", "ptr", shard]`         | `{ seq }`, watched by every isolate | lib/bus/kv_bus.ts  |
 * | `["bus", "log", shard, seq]`    | `BusMessage[]` of one commit, `expireIn` | lib/bus/kv_bus.ts |
 * | `["isolate", isolateId]`        | `IsolateReport` (status + metrics), `expireIn` | lib/app/cluster.ts |
 * | `["cluster", "isolate", isolateId]` | `IsolateRecord` {expiresAt, startedAt}: liveness, rewritten every beat; deleted once its entries are swept | lib/cluster/kv_store.ts |
 * | `["cluster", "presence", channel, userId, isolateId]` | `{ name, connections }`: one user on one isolate | lib/cluster/kv_store.ts |
 * | `["cluster", "presence_rev", shard]` | `Deno.KvU64` bumped by every presence write of the shard; watched and polled | lib/cluster/kv_store.ts |
 * | `["cluster", "slot", userId, isolateId]` | the user's open (or reserved) connections on that isolate | lib/cluster/kv_store.ts |
 * | `["cluster", "slot", userId, 0]` | a counter every reservation of the user checks and bumps (serializes them), `expireIn` 1 h | lib/cluster/kv_store.ts |
 * | `["cluster", "own", isolateId, …]` | `1`: the presence / slot entries an isolate wrote, for sweeping them once it died | lib/cluster/kv_store.ts |
 * | `["cluster", "attempt", scope, key]` | `AttemptRecord`: a fixed window's count and per-isolate reservations in flight, `expireIn` | lib/cluster/kv_store.ts |
 * | `["bus", "idem", channel, key]` | the position a publish was committed at, `expireIn` | lib/bus/kv_bus.ts |
 * | `["job", queue, id]`            | `JobRecord`: payload, attempts, `runAt`, claim | lib/bus/jobs_store.ts |
 * | `["job_due", queue, runAt, id]` | `1`; the index of jobs by `runAt` (a claim's expiry while running) | lib/bus/jobs_store.ts |
 * | `["job_idem", queue, key]`     | job id; unique idempotency key, `expireIn` | lib/bus/jobs_store.ts |
 * | `["job_done", queue, key]`     | `{ id, completedAt }`, `expireIn` (7 d) | lib/bus/jobs_store.ts |
 * | `["job_dead", queue, id]`      | `DeadLetter` (lib/bus/jobs_types.ts) | lib/bus/jobs_store.ts |
 * | `["job_ptr", queue]`           | `Deno.KvU64` bumped per outbox enqueue, watched | lib/bus/jobs_store.ts |
 * | `["job_undelivered", queue, id]` | a kv-queue message KV gave up on (`keysIfUndelivered`) | KV runtime |
 * | `["watchlist", userId]`         | `{ symbols, updatedAt }`, ≤ 50 pairs | lib/prices/watchlist.ts |
 * | `["wallet_watch", userId]`      | `{ addresses: WatchedAddress[] }`, ≤ 20 per user, checked on write | lib/wallet/watch.ts |
 * | `["wallet_watcher", address, userId]` | `1`; who watches an address (same commits as `wallet_watch`) | lib/wallet/watch.ts |
 * | `["wallet_watch_rev"]`          | `Deno.KvU64` bumped by every watch change (the listener reloads) | lib/wallet/watch.ts |
 * | `["wallet_demo_seeded", userId]` | `1`: the demo address was given to this user once | lib/wallet/watch.ts |
 * | `["notif", userId, "head"]`    | `InboxHead`: rev, unseen / unread / total counts, newest id, rate window; checked by every inbox change | lib/notifications/store.ts |
 * | `["notif", userId, "item", id]` | `Notification`; ≤ 500 per user, ≤ 30 days (trimmed in the commits that add) | lib/notifications/store.ts |
 * | `["notif", userId, "group", groupKey]` | `{ id, until }`: the item low-priority items of this key join, `expireIn` | lib/notifications/store.ts |
 * | `["notif", userId, "idem", key]` | the item a delivery created (idempotency), `expireIn` 1 day | lib/notifications/store.ts |
 * | `["notif", userId, "prefs"]`   | `NotificationPreferences`         | lib/notifications/store.ts |
 * | `["alert_rule", userId, ruleId]` | `StoredRule` (rule + evaluation state); ≤ 50 per user | lib/alerts/store.ts |
 * | `["alert_user", userId]`        | `{ count }`: the user's rule count, checked by every create / delete | lib/alerts/store.ts |
 * | `["alert_dirty", userId]`       | time of the user's last rule change, until the engine reloaded them | lib/alerts/store.ts |
 * | `["alert_rev"]`                 | `Deno.KvU64` bumped by every rule change; watched by the engine | lib/alerts/store.ts |
 * | `["alert_addr", address, userId, ruleId]` | `1`: wallet rules by watched address | lib/alerts/store.ts |
 * | `["alert_outbox", firingId]`    | a firing's `NotificationInput`, committed with the rule's state, until enqueued | lib/alerts/engine.ts |
 * | `["alert_event", ruleId, eventKey]` | `1`: a wallet event already applied to the rule, `expireIn` 1 day | lib/alerts/wallet.ts |
 * | `["chain", "status"]`           | `ChainStatus` (lib/wallet/types.ts), for `/api/chain` | lib/wallet/engine.ts |
 * | `["chain", chainId, "cursor"]`  | `ChainCursor`: last ingested block, sequences; checked by every ingest commit | lib/wallet/store.ts |
 * | `["chain", chainId, "block", number]` | `StoredBlock` (number, hash, parentHash, tracked txs); the unfinalized window | lib/wallet/store.ts |
 * | `["chain", chainId, "tx", hash]` | `TrackedTx`: a transaction touching a watched address, until final | lib/wallet/store.ts |
 * | `["chain", chainId, "token", address]` | `TokenMeta`: name, symbol, decimals, kind (read once) | lib/wallet/store.ts |
 * | `["chain", chainId, "outbox", seq]` | wallet messages committed with the state, until published | lib/wallet/store.ts |
 * | `["wallet", chainId, address, "item", seq]` | `StoredItem`: one activity item; `seq` orders the feed | lib/wallet/store.ts |
 * | `["wallet", chainId, address, "id", itemId]` | the item's `seq` | lib/wallet/store.ts |
 * | `["wallet", chainId, address, "bal"]` | `StoredBalances`: native and token balances at a block | lib/wallet/store.ts |
 */

/** The latest quote of every symbol, one value (well under KV's 64 KiB limit). */
export function priceBoardKey(): Deno.KvKey {
  return ["prices", "board"];
}

/** A user's starred pairs (lib/prices/watchlist.ts); deleted with the account. */
export function watchlistKey(userId: string): Deno.KvKey {
  return ["watchlist", userId];
}

/**
 * One candle of a symbol: `slot` is the interval's index modulo the number kept, so the key
 * space per symbol is bounded even where `expireIn` is slow to delete.
 */
export function candleKey(symbol: string, interval: string, slot: number): Deno.KvKey {
  return ["candle", symbol, interval, slot];
}

/** The prefix of {@linkcode candleKey} for one symbol and interval (for range reads). */
export function candlePrefix(symbol: string, interval: string): Deno.KvKey {
  return ["candle", symbol, interval];
}

/** A named singleton lease (e.g. `market`). */
export function leaseKey(name: string): Deno.KvKey {
  return ["lease", name];
}

/** An account by its user id. */
export function accountKey(userId: string): Deno.KvKey {
  return ["account", userId];
}

/** The unique username index: the lowercased username → user id. */
export function accountByUsernameKey(username: string): Deno.KvKey {
  return ["account_by_username", username.toLowerCase()];
}

/** A login session by its (random, secret) id; written with `expireIn`. */
export function sessionKey(sessionId: string): Deno.KvKey {
  return ["session", sessionId];
}

/** The index of a user's sessions, written and deleted in the same commits as the session. */
export function sessionByUserKey(userId: string, sessionId: string): Deno.KvKey {
  return ["session_by_user", userId, sessionId];
}

/** The prefix of {@linkcode sessionByUserKey} (lists one user's sessions). */
export function sessionByUserPrefix(userId: string): Deno.KvKey {
  return ["session_by_user", userId];
}

/** The token-signing secret generated when `AUTH_SECRET` is not set. */
export function authSecretKey(): Deno.KvKey {
  return ["auth", "secret"];
}

/**
 * A channel's head: its epoch and last offset. Written only with a message, expiring a
 * minute after the channel's newest kept message (losing it starts a new epoch).
 */
export function busHeadKey(channel: string): Deno.KvKey {
  return ["bus", "head", channel];
}

/** One message of a channel's bounded history. */
export function busHistoryKey(channel: string, offset: number): Deno.KvKey {
  return ["bus", "h", channel, offset];
}

/** The prefix of a channel's history (for range reads). */
export function busHistoryPrefix(channel: string): Deno.KvKey {
  return ["bus", "h", channel];
}

/** A shard's pointer: the sequence number of its newest log entry. Watched. */
export function busPointerKey(shard: number): Deno.KvKey {
  return ["bus", "ptr", shard];
}

/** One log entry of a shard: the messages of one commit, read by every isolate. */
export function busLogKey(shard: number, seq: number): Deno.KvKey {
  return ["bus", "log", shard, seq];
}

// Durable jobs (lib/bus/jobs*.ts, JOBS.md). `queue` is the JobQueue's name.

/** A pending job (payload, attempts, `runAt`, claim). Deleted when done or dead-lettered. */
export function jobKey(queue: string, id: string): Deno.KvKey {
  return ["job", queue, id];
}

/** The index of a queue's pending jobs by `runAt`: listing it gives the due jobs first. */
export function jobDueKey(queue: string, runAt: number, id: string): Deno.KvKey {
  return ["job_due", queue, runAt, id];
}

/** The prefix of {@linkcode jobDueKey} (for range reads). */
export function jobDuePrefix(queue: string): Deno.KvKey {
  return ["job_due", queue];
}

/** The unique idempotency index: key → job id, set with `versionstamp: null` at enqueue. */
export function jobIdempotencyKey(queue: string, key: string): Deno.KvKey {
  return ["job_idem", queue, key];
}

/** The marker of a job whose handler succeeded; a delivery finding it skips the handler. */
export function jobDoneKey(queue: string, key: string): Deno.KvKey {
  return ["job_done", queue, key];
}

/** A job that failed every attempt. */
export function jobDeadKey(queue: string, id: string): Deno.KvKey {
  return ["job_dead", queue, id];
}

/** The prefix of {@linkcode jobDeadKey} (for range reads). */
export function jobDeadPrefix(queue: string): Deno.KvKey {
  return ["job_dead", queue];
}

/** The outbox's wake-up pointer, bumped in every enqueue and watched by the lease holder. */
export function jobPointerKey(queue: string): Deno.KvKey {
  return ["job_ptr", queue];
}

/** Where KV writes a kv-queue message it could not deliver (`keysIfUndelivered`). */
export function jobUndeliveredKey(queue: string, id: string): Deno.KvKey {
  return ["job_undelivered", queue, id];
}

/** The prefix of {@linkcode jobUndeliveredKey} (for range reads). */
export function jobUndeliveredPrefix(queue: string): Deno.KvKey {
  return ["job_undelivered", queue];
}

/**
 * A publish's idempotency key (e.g. `userId:messageId`) on one channel → where it was
 * committed. Scoped by channel: the same key on another channel is another publish.
 */
export function busIdempotencyKey(channel: string, key: string): Deno.KvKey {
  return ["bus", "idem", channel, key];
}

/** One isolate's latest status and metrics snapshot (expiring), for cluster-wide views. */
export function isolateReportKey(isolateId: string): Deno.KvKey {
  return ["isolate", isolateId];
}

/** The prefix of all isolate reports. */
export function isolateReportPrefix(): Deno.KvKey {
  return ["isolate"];
}

// Wallet activity (lib/wallet). Addresses in keys are EIP-55 checksummed.

/** A user's watched addresses (one value, ≤ 20 entries). */
export function walletWatchKey(userId: string): Deno.KvKey {
  return ["wallet_watch", userId];
}

/** The index of who watches an address (written in the same commits as the watch). */
export function walletWatcherKey(address: string, userId: string): Deno.KvKey {
  return ["wallet_watcher", address, userId];
}

/** The prefix of every {@linkcode walletWatcherKey} (lists every watched address). */
export function walletWatcherRoot(): Deno.KvKey {
  return ["wallet_watcher"];
}

/** Bumped by every watch change, so the chain listener reloads the watched set. */
export function walletWatchRevKey(): Deno.KvKey {
  return ["wallet_watch_rev"];
}

/** Marks that the demo address was given to a user once (removing it is then final). */
export function walletDemoSeededKey(userId: string): Deno.KvKey {
  return ["wallet_demo_seeded", userId];
}

/** The chain's status as the listener last wrote it (`GET /api/chain`). */
export function chainStatusKey(): Deno.KvKey {
  return ["chain", "status"];
}

/** The listener's durable cursor on one chain. */
export function chainCursorKey(chainId: number): Deno.KvKey {
  return ["chain", chainId, "cursor"];
}

/** One block of the unfinalized window. */
export function chainBlockKey(chainId: number, number: number): Deno.KvKey {
  return ["chain", chainId, "block", number];
}

/** The prefix of {@linkcode chainBlockKey}. */
export function chainBlockPrefix(chainId: number): Deno.KvKey {
  return ["chain", chainId, "block"];
}

/** A tracked transaction (lifecycle state), kept until final. */
export function chainTxKey(chainId: number, hash: string): Deno.KvKey {
  return ["chain", chainId, "tx", hash];
}

/** The prefix of {@linkcode chainTxKey}. */
export function chainTxPrefix(chainId: number): Deno.KvKey {
  return ["chain", chainId, "tx"];
}

/** A token's metadata, read once. */
export function chainTokenKey(chainId: number, address: string): Deno.KvKey {
  return ["chain", chainId, "token", address];
}

/** Wallet messages committed with the state that produced them, until published. */
export function chainOutboxKey(chainId: number, seq: number): Deno.KvKey {
  return ["chain", chainId, "outbox", seq];
}

/** The prefix of {@linkcode chainOutboxKey}. */
export function chainOutboxPrefix(chainId: number): Deno.KvKey {
  return ["chain", chainId, "outbox"];
}

/** The prefix of everything stored for one chain (wiped when the chain is replaced). */
export function chainPrefix(chainId: number): Deno.KvKey {
  return ["chain", chainId];
}

/** One activity item of an address; `seq` (ascending) orders the feed. */
export function walletItemKey(chainId: number, address: string, seq: number): Deno.KvKey {
  return ["wallet", chainId, address, "item", seq];
}

/** The prefix of {@linkcode walletItemKey} for one address. */
export function walletItemPrefix(chainId: number, address: string): Deno.KvKey {
  return ["wallet", chainId, address, "item"];
}

/** An item's id → its `seq`. */
export function walletItemIdKey(chainId: number, address: string, itemId: string): Deno.KvKey {
  return ["wallet", chainId, address, "id", itemId];
}

/** An address's balances. */
export function walletBalanceKey(chainId: number, address: string): Deno.KvKey {
  return ["wallet", chainId, address, "bal"];
}

/** The prefix of everything stored for one address on one chain. */
export function walletAddressPrefix(chainId: number, address: string): Deno.KvKey {
  return ["wallet", chainId, address];
}

/** The prefix of every address's data on one chain. */
export function walletChainPrefix(chainId: number): Deno.KvKey {
  return ["wallet", chainId];
}

// Notifications (lib/notifications). Everything of one user lies under ["notif", userId].

/** Everything stored for one user's inbox (deleted with the account). */
export function notifUserPrefix(userId: string): Deno.KvKey {
  return ["notif", userId];
}

/** A user's inbox head: counts, revision, newest id, rate window; checked by every change. */
export function notifHeadKey(userId: string): Deno.KvKey {
  return ["notif", userId, "head"];
}

/** One inbox item; ids sort by creation. */
export function notifItemKey(userId: string, id: string): Deno.KvKey {
  return ["notif", userId, "item", id];
}

/** The prefix of {@linkcode notifItemKey} for one user (for range reads). */
export function notifItemPrefix(userId: string): Deno.KvKey {
  return ["notif", userId, "item"];
}

/** The open group of `groupKey`: the item later low-priority items join within the window. */
export function notifGroupKey(userId: string, groupKey: string): Deno.KvKey {
  return ["notif", userId, "group", groupKey];
}

/** A delivery's idempotency marker: which item it created or joined. */
export function notifIdemKey(userId: string, key: string): Deno.KvKey {
  return ["notif", userId, "idem", key];
}

/** A user's notification preferences. */
export function notifPrefsKey(userId: string): Deno.KvKey {
  return ["notif", userId, "prefs"];
}

// Alert rules (lib/alerts).

/** One alert rule with its evaluation state. */
export function alertRuleKey(userId: string, ruleId: string): Deno.KvKey {
  return ["alert_rule", userId, ruleId];
}

/** The prefix of {@linkcode alertRuleKey} for one user. */
export function alertRulePrefix(userId: string): Deno.KvKey {
  return ["alert_rule", userId];
}

/** The prefix of every rule of every user (the engine's full load). */
export function alertRuleRoot(): Deno.KvKey {
  return ["alert_rule"];
}

/** A user's rule count, checked by every create and delete (the per-user limit). */
export function alertUserKey(userId: string): Deno.KvKey {
  return ["alert_user", userId];
}

/** Marks a user whose rules changed since the engine last loaded them. */
export function alertDirtyKey(userId: string): Deno.KvKey {
  return ["alert_dirty", userId];
}

/** The prefix of {@linkcode alertDirtyKey}. */
export function alertDirtyPrefix(): Deno.KvKey {
  return ["alert_dirty"];
}

/** Bumped by every rule change; the engine watches it. */
export function alertRevKey(): Deno.KvKey {
  return ["alert_rev"];
}

/** The index of wallet rules by address. */
export function alertAddressKey(address: string, userId: string, ruleId: string): Deno.KvKey {
  return ["alert_addr", address, userId, ruleId];
}

/** The prefix of {@linkcode alertAddressKey} for one address. */
export function alertAddressPrefix(address: string): Deno.KvKey {
  return ["alert_addr", address];
}

/** A firing committed with its rule's state, until its notification is enqueued. */
export function alertOutboxKey(firingId: string): Deno.KvKey {
  return ["alert_outbox", firingId];
}

/** The prefix of {@linkcode alertOutboxKey}. */
export function alertOutboxPrefix(): Deno.KvKey {
  return ["alert_outbox"];
}

/** A wallet event already applied to a rule (so a redelivered event never fires twice). */
export function alertEventKey(ruleId: string, eventKey: string): Deno.KvKey {
  return ["alert_event", ruleId, eventKey];
}

// Cluster-wide state (lib/cluster): liveness, presence, connection slots, attempts.

/** One isolate's liveness record. */
export function clusterIsolateKey(isolateId: string): Deno.KvKey {
  return ["cluster", "isolate", isolateId];
}

/** The prefix of all liveness records. */
export function clusterIsolatePrefix(): Deno.KvKey {
  return ["cluster", "isolate"];
}

/** A user present on a channel through one isolate. */
export function presenceEntryKey(channel: string, userId: string, isolateId: string): Deno.KvKey {
  return ["cluster", "presence", channel, userId, isolateId];
}

/** The prefix of a channel's presence entries. */
export function presenceEntryPrefix(channel: string): Deno.KvKey {
  return ["cluster", "presence", channel];
}

/** The change counter of one presence shard. */
export function presenceRevKey(shard: number): Deno.KvKey {
  return ["cluster", "presence_rev", shard];
}

/** A user's connections on one isolate (`isolateId`), or the user's reservation counter (`0`). */
export function slotKey(userId: string, isolateId: string | 0): Deno.KvKey {
  return ["cluster", "slot", userId, isolateId];
}

/** The prefix of a user's slot entries and counter. */
export function slotPrefix(userId: string): Deno.KvKey {
  return ["cluster", "slot", userId];
}

/** What an isolate wrote (`["p", channel, userId]` or `["s", userId]`), for the sweeper. */
export function ownedKey(isolateId: string, ...entry: string[]): Deno.KvKey {
  return ["cluster", "own", isolateId, ...entry];
}

/** The prefix of everything an isolate wrote. */
export function ownedPrefix(isolateId: string): Deno.KvKey {
  return ["cluster", "own", isolateId];
}

/** An attempt counter (lib/auth/attempts.ts) of `scope` (`ip`, `pair`, `name`). */
export function attemptKey(scope: string, key: string): Deno.KvKey {
  return ["cluster", "attempt", scope, key];
}
