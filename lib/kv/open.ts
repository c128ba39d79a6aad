/** Opening the Deno KV database the application runs on. */

/** Where KV lives: a file path, `:memory:`, or a KV Connect URL (later). */
export interface KvLocation {
  /** A file path or `:memory:`. `undefined` lets Deno pick (Deno Deploy's managed KV). */
  path?: string;
}

/**
 * Opens KV at `location.path`, creating the parent folder of a file path when needed;
 * the open itself and every write retry while SQLite reports "database is locked" (see
 * {@linkcode retryWhileLocked}).
 */
export async function openKv(location: KvLocation): Promise<Deno.Kv> {
  const path = location.path;
  if (path && path !== ":memory:" && !path.includes("://")) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await ensureFolder(path.slice(0, slash));
  }
  // Opening a new file creates its schema: two isolates doing it at once lock each other.
  return retryWhileLocked(await withLockRetry(() => Deno.openKv(path || undefined)));
}

/**
 * Creates `dir` and its parents when missing. A process allowed to write only the KV file
 * (`--allow-write=<file>`, no write access around it) cannot even ask: the folder is then
 * left as it is and must exist (opening the file fails otherwise).
 */
async function ensureFolder(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
}

const LOCKED = /database is locked/i;

/** True for the error local KV throws when another isolate holds SQLite's write lock. */
export function isLockedError(err: unknown): boolean {
  return err instanceof Error && LOCKED.test(err.message);
}

/** Options of {@linkcode withLockRetry}. */
export interface LockRetryOptions {
  /** Attempts before giving up. Default 100 (about 1–2 s with the default delays). */
  attempts?: number;
  /** Longest random wait between attempts, ms. Default 20. */
  maxDelayMs?: number;
}

/**
 * Runs `write` again while it fails with "database is locked". Safe for KV writes: a
 * commit that fails to take the lock applied nothing.
 */
export async function withLockRetry<T>(
  write: () => Promise<T>,
  options: LockRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 20;
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isLockedError(err) || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * maxDelayMs));
    }
  }
}

/**
 * Makes every write of `kv` retry while locked. Local KV gives each isolate its own
 * SQLite connection to the file; under `deno serve --parallel` two isolates writing at
 * once make one of them fail at once with "database is locked" (measured: ~8 % of
 * writes with two isolates writing in a loop). Patches the instance's `atomic()`
 * (its `commit`), `set`, `delete` and `enqueue`; reads are unaffected (WAL).
 */
export function retryWhileLocked(kv: Deno.Kv, options: LockRetryOptions = {}): Deno.Kv {
  const atomic = kv.atomic.bind(kv);
  const set = kv.set.bind(kv);
  const del = kv.delete.bind(kv);
  const enqueue = kv.enqueue.bind(kv);
  kv.atomic = () => {
    const op = atomic();
    const commit = op.commit.bind(op);
    op.commit = () => withLockRetry(commit, options);
    return op;
  };
  kv.set = (key, value, opts) => withLockRetry(() => set(key, value, opts), options);
  kv.delete = (key) => withLockRetry(() => del(key), options);
  kv.enqueue = (value, opts) => withLockRetry(() => enqueue(value, opts), options);
  return kv;
}
