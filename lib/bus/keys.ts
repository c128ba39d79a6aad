/**
 * Every Deno KV key the application uses is built here, so the key space is
 * documented in one place and no module invents keys of its own.
 *
 * | key                             | value                             | written by           |
 * | ------------------------------- | --------------------------------- | -------------------- |
 * | `["prices", "board"]`           | {@linkcode PriceBoard}            | market producer      |
 * | `["lease", name]`               | {@linkcode LeaseRecord}           | lease holders        |
 * | `["account", userId]`           | `StoredAccount` (lib/auth)        | lib/auth/accounts.ts |
 * | `["account_by_username", name]` | userId; unique, `name` lowercased | lib/auth/accounts.ts |
 * | `["session", sessionId]`        | `SessionRecord`, with `expireIn`  | lib/auth/sessions.ts |
 * | `["session_by_user", userId, sessionId]` | `SessionRecord`; the index of a user's sessions, same commit and `expireIn` | lib/auth/sessions.ts |
 * | `["auth", "secret"]`            | token-signing secret (32 bytes)   | lib/auth/secret.ts   |
 * | `["bus", "head", channel]`      | `ChannelHead` {epoch, offset, ts} | lib/bus/kv_bus.ts    |
 * | `["bus", "h", channel, offset]` | `BusMessage`, with `expireIn`     | lib/bus/kv_bus.ts    |
 * | `["bus", "ptr", shard]`         | `{ seq }`, watched by every isolate | lib/bus/kv_bus.ts  |
 * | `["bus", "log", shard, seq]`    | `BusMessage[]` of one commit, `expireIn` | lib/bus/kv_bus.ts |
 * | `["isolate", isolateId]`        | `IsolateReport` (status + metrics), `expireIn` | lib/app/cluster.ts |
 * | `["bus", "idem", key]`          | the position a publish was committed at, `expireIn` | lib/bus/kv_bus.ts |
 * | `["job", queue, id]`            | `JobRecord`: payload, attempts, `runAt`, claim | lib/bus/jobs_store.ts |
 * | `["job_due", queue, runAt, id]` | `1`; the index of jobs by `runAt` (a claim's expiry while running) | lib/bus/jobs_store.ts |
 * | `["job_idem", queue, key]`     | job id; unique idempotency key, `expireIn` | lib/bus/jobs_store.ts |
 * | `["job_done", queue, key]`     | `{ id, completedAt }`, `expireIn` (7 d) | lib/bus/jobs_store.ts |
 * | `["job_dead", queue, id]`      | `DeadLetter` (lib/bus/jobs_types.ts) | lib/bus/jobs_store.ts |
 * | `["job_ptr", queue]`           | `Deno.KvU64` bumped per outbox enqueue, watched | lib/bus/jobs_store.ts |
 * | `["job_undelivered", queue, id]` | a kv-queue message KV gave up on (`keysIfUndelivered`) | KV runtime |
 */

/** The latest quote of every symbol, one value (well under KV's 64 KiB limit). */
export function priceBoardKey(): Deno.KvKey {
  return ["prices", "board"];
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

/** A channel's head: its epoch and last offset. Never expires (losing it starts a new epoch). */
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

/** A publish's idempotency key (e.g. `userId:messageId`) → where it was committed. */
export function busIdempotencyKey(key: string): Deno.KvKey {
  return ["bus", "idem", key];
}

/** One isolate's latest status and metrics snapshot (expiring), for cluster-wide views. */
export function isolateReportKey(isolateId: string): Deno.KvKey {
  return ["isolate", isolateId];
}

/** The prefix of all isolate reports. */
export function isolateReportPrefix(): Deno.KvKey {
  return ["isolate"];
}
