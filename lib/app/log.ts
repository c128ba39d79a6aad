/** Structured logging: one JSON object per line on stderr (errors) or stdout. */
import type { LogLevel } from "./config.ts";

/** Fields attached to a log line. Never put tokens or passwords here. */
export type LogFields = Record<string, unknown>;

/** A leveled, structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

/** Creates a logger that drops lines below `level` and writes through `write`. */
export function createLogger(
  level: LogLevel,
  base: LogFields = {},
  write: (level: LogLevel, line: string) => void = defaultWrite,
): Logger {
  function log(at: LogLevel, msg: string, fields?: LogFields) {
    if (RANK[at] < RANK[level]) return;
    const record: LogFields = { ts: new Date().toISOString(), level: at, msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = errorFields(v);
    write(at, JSON.stringify(record));
  }
  return {
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}

function defaultWrite(level: LogLevel, line: string): void {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
