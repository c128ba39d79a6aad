/**
 * Delta messages: a `message` with `delta: true` carries, instead of the full value, a
 * patch against the previous value the same connection received on that channel, with the
 * semantics of a JSON merge patch (RFC 7396): an object lists the keys that changed, with
 * their new values; `null` deletes a key; objects are patched key by key, recursively;
 * anything else (arrays, strings, numbers, booleans) replaces the old value whole.
 *
 * RFC 7396 cannot set a value to `null` (`null` means "delete"). Rather than extending
 * the format, {@linkcode diffValue} gives up on such a change and the server sends that
 * message in full: any RFC 7396 implementation can apply our patches, and the fallback
 * costs one full message at the rare moment a field becomes `null`.
 *
 * Shared by the gateway (which diffs) and the client SDK (which applies): no zod, no
 * server-only imports.
 */
import { MAX_PAYLOAD_DEPTH } from "./limits.ts";

/**
 * How deep a patch may nest objects (the top-level object is 1). A change deeper than this
 * is sent in full; a patch deeper than this is refused by {@linkcode applyPatch}.
 */
export const MAX_DELTA_DEPTH = MAX_PAYLOAD_DEPTH;

/** A merge patch: the changed keys of an object with their new values. */
export type Patch = Record<string, unknown>;

/** The outcome of {@linkcode applyPatch}. */
export type PatchResult = { ok: true; value: unknown } | { ok: false; error: string };

type Plain = Record<string, unknown>;

/** A plain object (the only kind a merge patch descends into); arrays are not. */
function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property, `__proto__` included (never the prototype). */
function setOwn(target: Plain, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else target[key] = value;
}

/** Own keys whose value is not `undefined` (JSON and MessagePack drop the others). */
function present(o: Plain, key: string): boolean {
  return Object.hasOwn(o, key) && o[key] !== undefined;
}

/**
 * The merge patch that turns `base` into `next`, or `undefined` when none can: either is
 * not a plain object, a key changes to `null`, an object replacing a non-object holds
 * `null`s, a non-JSON object (binary, Date…) is met, or the change nests deeper than
 * `maxDepth`. Unchanged keys are left out, so equal values give `{}`. Arrays that differ
 * are carried whole.
 */
export function diffValue(
  base: unknown,
  next: unknown,
  maxDepth: number = MAX_DELTA_DEPTH,
): Patch | undefined {
  if (!isPlainObject(base) || !isPlainObject(next)) return undefined;
  return diffObjects(base, next, 1, maxDepth);
}

/** How deep unchanged values are compared; deeper ones count as changed. */
const MAX_COMPARE_DEPTH = 256;

function diffObjects(a: Plain, b: Plain, depth: number, maxDepth: number): Patch | undefined {
  // Too deep for a patch: fine only if nothing changed down there.
  if (depth > maxDepth) return sameValue(a, b, depth) ? {} : undefined;
  const patch: Patch = {};
  for (const key of Object.keys(a)) {
    if (present(a, key) && !present(b, key)) setOwn(patch, key, null);
  }
  for (const key of Object.keys(b)) {
    const bv = b[key];
    if (bv === undefined) continue;
    const av = present(a, key) ? a[key] : undefined;
    if (bv === null) {
      if (av === null) continue;
      return undefined; // "set to null" has no merge-patch form
    }
    if (isPlainObject(bv)) {
      if (isPlainObject(av)) {
        const sub = diffObjects(av, bv, depth + 1, maxDepth);
        if (sub === undefined) return undefined;
        if (Object.keys(sub).length > 0) setOwn(patch, key, sub);
      } else {
        // Merged into an empty object by the client: exact unless it holds nulls.
        if (!insertable(bv, depth + 1, maxDepth)) return undefined;
        setOwn(patch, key, bv);
      }
      continue;
    }
    if (typeof bv === "object" && !Array.isArray(bv)) return undefined; // binary, Date…
    if (!sameValue(av, bv, depth + 1)) setOwn(patch, key, bv);
  }
  return patch;
}

/** Whether an object can go in a patch as is: no nulls in its objects, bounded depth. */
function insertable(o: Plain, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth) return false;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (v === null) return false;
    if (isPlainObject(v)) {
      if (!insertable(v, depth + 1, maxDepth)) return false;
    } else if (typeof v === "object" && v !== undefined && !Array.isArray(v)) return false;
  }
  return true;
}

/** Deep equality of JSON values (arrays by element, objects by present keys). */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth > MAX_COMPARE_DEPTH) return false; // too deep to compare: treat as changed
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!sameValue(a[i], b[i], depth + 1)) return false;
    }
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a).filter((k) => a[k] !== undefined);
  if (keys.length !== Object.keys(b).filter((k) => b[k] !== undefined).length) return false;
  for (const key of keys) {
    if (!present(b, key) || !sameValue(a[key], b[key], depth + 1)) return false;
  }
  return true;
}

/**
 * Applies a merge patch to `base` (RFC 7396), without changing `base`: new objects along
 * the patched paths, unchanged parts shared. A patch that is not an object replaces the
 * value; one nesting objects deeper than `maxDepth` is refused, as is a patch object
 * applied where no value is held (`base` undefined) — that needs a full message.
 */
export function applyPatch(
  base: unknown,
  patch: unknown,
  maxDepth: number = MAX_DELTA_DEPTH,
): PatchResult {
  if (base === undefined) return { ok: false, error: "no previous value to patch" };
  if (!isPlainObject(patch)) return { ok: false, error: "a patch must be an object" };
  const value = merge(base, patch, 1, maxDepth);
  return value === TOO_DEEP
    ? { ok: false, error: `the patch nests deeper than ${maxDepth} levels` }
    : { ok: true, value };
}

const TOO_DEEP = Symbol("too deep");

function merge(target: unknown, patch: unknown, depth: number, maxDepth: number): unknown {
  if (!isPlainObject(patch)) return patch;
  if (depth > maxDepth) return TOO_DEEP;
  const out: Plain = {};
  if (isPlainObject(target)) {
    for (const key of Object.keys(target)) setOwn(out, key, target[key]);
  }
  for (const key of Object.keys(patch)) {
    const v = patch[key];
    if (v === null) {
      delete out[key];
      continue;
    }
    const merged = merge(Object.hasOwn(out, key) ? out[key] : undefined, v, depth + 1, maxDepth);
    if (merged === TOO_DEEP) return TOO_DEEP;
    setOwn(out, key, merged);
  }
  return out;
}
