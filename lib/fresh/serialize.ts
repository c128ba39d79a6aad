/**
 * Island props serialization, shared by the server (encode) and the browser (decode).
 *
 * Props are JSON values plus `undefined`, non-finite numbers, `Date`s and signals from
 * `@preact/signals`. A signal passed to several islands of one page is encoded once and
 * revived as one signal, so those islands stay in sync. Special values are tagged objects
 * `{ "$t": tag, … }`; a plain object that itself has a `$t` key is wrapped (`"o"`), so
 * every value round-trips.
 *
 * The encoded text is safe inside `<script type="application/json">`: `<`, `>`, `&`,
 * U+2028 and U+2029 are written as `\uXXXX` escapes, so no prop can close the script
 * element or open a comment.
 *
 * @module
 */
import { isValidElement } from "preact";
import { type Signal, signal } from "@preact/signals";

const TAG = "$t";
const SIGNAL_BRAND = Symbol.for("preact-signals");

/** An island occurrence on a page: manifest key, export name and props. */
export interface IslandProps {
  key: string;
  exportName: string;
  props: Record<string, unknown>;
}

/** Encodes the islands of one page; throws "Cannot serialize island prop …" on bad props. */
export function serializeIslands(islands: IslandProps[]): string {
  const signals = new Map<Signal, number>();
  const encoded = islands.map(({ key, exportName, props }) => {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(props)) {
      setOwn(out, name, encode(value, { signals, path: name, island: key, stack: [] }));
    }
    return [key, exportName, TAG in out ? { [TAG]: "o", v: out } : out];
  });
  return escapeJson(JSON.stringify(encoded));
}

/** Decodes {@linkcode serializeIslands} output (after `JSON.parse` of the script text). */
export function deserializeIslands(text: string): IslandProps[] {
  const signals = new Map<number, Signal>();
  const data = JSON.parse(text) as [string, string, Record<string, unknown>][];
  return data.map(([key, exportName, props]) => ({
    key,
    exportName,
    props: decode(props, signals) as Record<string, unknown>,
  }));
}

/** Escapes JSON text for embedding in an HTML `<script>` element. */
export function escapeJson(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** True for `@preact/signals` signals, including computed ones. */
export function isSignal(value: unknown): value is Signal {
  return typeof value === "object" && value !== null &&
    (value as { brand?: unknown }).brand === SIGNAL_BRAND;
}

interface EncodeState {
  signals: Map<Signal, number>;
  path: string;
  island: string;
  stack: unknown[];
}

function fail(state: EncodeState, detail: string): never {
  throw new Error(`Cannot serialize island prop ${state.path} of ${state.island}: ${detail}`);
}

function encode(value: unknown, state: EncodeState): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return { [TAG]: "u" };
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: "n", v: Object.is(value, -0) ? "-0" : String(value) };
    case "function":
      return fail(state, "functions/JSX are not supported");
    case "bigint":
    case "symbol":
      return fail(state, `${typeof value} values are not supported`);
  }
  if (value === null) return null;
  if (state.stack.includes(value)) return fail(state, "circular references are not supported");
  if (isSignal(value)) {
    const known = state.signals.get(value);
    if (known !== undefined) return { [TAG]: "s", i: known };
    const id = state.signals.size;
    state.signals.set(value, id);
    return { [TAG]: "s", i: id, v: nested(value.peek(), state, ".value", value) };
  }
  if (isValidElement(value) && "type" in value && "props" in value) {
    return fail(state, "functions/JSX are not supported");
  }
  if (value instanceof Date) return { [TAG]: "d", v: value.toISOString() };
  if (Array.isArray(value)) {
    return Array.from(value, (item, i) => nested(item, state, `[${i}]`, value));
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return fail(state, `${proto?.constructor?.name ?? "object"} instances are not supported`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    setOwn(out, key, nested(item, state, `.${key}`, value));
  }
  return TAG in out ? { [TAG]: "o", v: out } : out;
}

function nested(value: unknown, state: EncodeState, suffix: string, parent: unknown): unknown {
  return encode(value, {
    ...state,
    path: state.path + suffix,
    stack: [...state.stack, parent],
  });
}

function decode(value: unknown, signals: Map<number, Signal>): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => decode(item, signals));
  const record = value as Record<string, unknown>;
  switch (record[TAG]) {
    case "u":
      return undefined;
    case "n":
      return record.v === "-0" ? -0 : Number(record.v);
    case "d":
      return new Date(record.v as string);
    case "s": {
      const id = record.i as number;
      let revived = signals.get(id);
      if (!revived) {
        revived = signal(decode(record.v, signals));
        signals.set(id, revived);
      }
      return revived;
    }
    case "o":
      return decodeObject(record.v as Record<string, unknown>, signals);
  }
  return decodeObject(record, signals);
}

function decodeObject(
  record: Record<string, unknown>,
  signals: Map<number, Signal>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) setOwn(out, key, decode(item, signals));
  return out;
}

/** Defines an own property, so a `__proto__` key stays data instead of a prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
