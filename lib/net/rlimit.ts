/**
 * The open-file limit (`RLIMIT_NOFILE`) of this process: read it, and raise the soft limit
 * to the hard one. Deno has no rlimit API; this calls libc's `getrlimit` / `setrlimit`
 * through `Deno.dlopen` when FFI is permitted (`-A`), reads `/proc/self/limits` when only
 * reading is, and reports `null` otherwise (Deno Deploy, Windows).
 *
 * Measured on Deno 2.9.6 / Linux: the runtime itself already raises the soft limit to the
 * hard one at start (`prlimit --nofile=256:20000 deno …` runs with 20 000), so the raise
 * here is a no-op there; it stays for runtimes that do not (and is reported either way).
 */

/** Soft and hard limits; `null` when unknown, `Infinity` when unlimited. */
export interface NoFileLimit {
  soft: number | null;
  hard: number | null;
  /** How it was read: `ffi`, `proc`, or `none`. */
  source: "ffi" | "proc" | "none";
}

/** The result of {@linkcode raiseNoFileLimit}. */
export interface RaiseResult extends NoFileLimit {
  /** The soft limit before, when it was raised. */
  raisedFrom?: number;
}

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

type Libc = {
  symbols: {
    getrlimit(resource: number, limits: BufferSource): number;
    setrlimit(resource: number, limits: BufferSource): number;
  };
};

let libc: Libc | null | undefined;

function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  const path = Deno.build.os === "linux"
    ? "libc.so.6"
    : Deno.build.os === "darwin"
    ? "libSystem.B.dylib"
    : null;
  if (!path) return libc;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return libc;
    libc = Deno.dlopen(path, {
      getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    }) as unknown as Libc;
  } catch {
    libc = null;
  }
  return libc;
}

const RLIMIT_NOFILE = Deno.build.os === "darwin" ? 8 : 7;

function toNumber(v: bigint): number {
  return v === RLIM_INFINITY ? Infinity : Number(v);
}

function viaFfi(): { soft: number; hard: number } | null {
  const lib = openLibc();
  if (!lib) return null;
  const buf = new BigUint64Array(2);
  if (lib.symbols.getrlimit(RLIMIT_NOFILE, buf) !== 0) return null;
  return { soft: toNumber(buf[0]), hard: toNumber(buf[1]) };
}

function viaProc(): { soft: number; hard: number } | null {
  try {
    if (
      Deno.permissions.querySync({ name: "read", path: "/proc/self/limits" }).state !== "granted"
    ) {
      return null;
    }
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
      .find((l) => l.startsWith("Max open files"));
    const m = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
    if (!m) return null;
    const parse = (s: string) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: parse(m[1]), hard: parse(m[2]) };
  } catch {
    return null;
  }
}

/** The current soft and hard open-file limits of this process. */
export function readNoFileLimit(): NoFileLimit {
  const ffi = viaFfi();
  if (ffi) return { ...ffi, source: "ffi" };
  const proc = viaProc();
  if (proc) return { ...proc, source: "proc" };
  return { soft: null, hard: null, source: "none" };
}

/**
 * Raises the soft open-file limit to the hard limit (a process may always do that).
 * Without FFI it only reads. Never throws.
 */
export function raiseNoFileLimit(): RaiseResult {
  const before = readNoFileLimit();
  const lib = openLibc();
  if (!lib || before.soft === null || before.hard === null || before.soft >= before.hard) {
    return before;
  }
  const buf = new BigUint64Array(2);
  buf[0] = before.hard === Infinity ? RLIM_INFINITY : BigInt(before.hard);
  buf[1] = before.hard === Infinity ? RLIM_INFINITY : BigInt(before.hard);
  if (lib.symbols.setrlimit(RLIMIT_NOFILE, buf) !== 0) return before;
  return { ...readNoFileLimit(), raisedFrom: before.soft };
}

/** "soft 20000, hard 20000" (or "unknown"), for the start banner and logs. */
export function describeNoFileLimit(limit: RaiseResult): string {
  if (limit.soft === null) return "open files: unknown (no FFI or /proc access)";
  const raised = limit.raisedFrom !== undefined ? ` (raised from ${limit.raisedFrom})` : "";
  return `open files: soft ${limit.soft}${raised}, hard ${limit.hard}`;
}
