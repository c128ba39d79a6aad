// Runtime-neutral pieces shared by the three peer servers (Deno and Node): token check,
// the drift-free publish ticker, /publish validation, /stats and /gc bodies.
import process from "node:process";
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";

/** @returns {(given: string | null | undefined) => boolean} a constant-time check against `token`. */
export function tokenChecker(token) {
  if (!token) throw new Error("TOKEN must be set");
  const expected = Buffer.from(token);
  return (given) => {
    if (typeof given !== "string") return false;
    const actual = Buffer.from(given);
    // Equal-length compare either way, so the timing leaks the length at most.
    if (actual.length !== expected.length) {
      timingSafeEqual(expected, expected);
      return false;
    }
    return timingSafeEqual(actual, expected);
  };
}

/** `PORT` from the environment (0 = any free port). */
export function envPort() {
  const port = Number(process.env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad PORT ${port}`);
  return port;
}

/**
 * Validates a `POST /publish` body.
 * @returns {{ channels: string[], rate: number, ticks: number, payloadBytes: number } | string}
 *   the request, or an error message.
 */
export function parsePublish(body) {
  const { channels, rate, ticks, payloadBytes = 0 } = body ?? {};
  if (!Array.isArray(channels) || !channels.every((c) => typeof c === "string")) {
    return "channels must be an array of strings";
  }
  if (!(typeof rate === "number" && rate > 0)) return "rate must be a positive number";
  if (!(Number.isInteger(ticks) && ticks >= 0)) return "ticks must be a non-negative integer";
  if (!(Number.isInteger(payloadBytes) && payloadBytes >= 0)) {
    return "payloadBytes must be a non-negative integer";
  }
  return { channels, rate, ticks, payloadBytes };
}

/**
 * Runs `ticks` ticks at `rate` per second: tick k is due at start + k/rate (no drift; late
 * ticks are caught up at once). For every tick and channel calls `publish(channel, data)`
 * with `data = { seq: k, t: Date.now(), pad }`.
 * @param {{ channels: string[], rate: number, ticks: number, payloadBytes: number }} request
 * @param {(channel: string, data: { seq: number, t: number, pad: string }) => void} publish
 * @returns {Promise<number>} the duration in ms.
 */
export function runTicks({ channels, rate, ticks, payloadBytes }, publish) {
  const pad = "x".repeat(payloadBytes);
  const interval = 1000 / rate;
  const start = performance.now();
  let k = 0;
  return new Promise((resolve) => {
    const step = () => {
      while (k < ticks && start + k * interval <= performance.now()) {
        const seq = k++;
        for (const channel of channels) publish(channel, { seq, t: Date.now(), pad });
      }
      if (k >= ticks) return resolve(performance.now() - start);
      setTimeout(step, Math.max(0, start + k * interval - performance.now()));
    };
    step();
  });
}

/** The `GET /stats` body. */
export function stats(connections) {
  const cpu = process.cpuUsage();
  return {
    rss: process.memoryUsage.rss(),
    connections,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
  };
}

/** The `POST /gc` body; collects garbage when started with --expose-gc. */
export function gc() {
  const collect = globalThis.gc;
  if (typeof collect === "function") collect();
  return { ok: true, gc: typeof collect === "function" };
}

/** Exits promptly on SIGTERM / SIGINT. */
export function exitOnSignals() {
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
}

/** Node: answers `res` with a JSON body. */
export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Node: the request body as JSON, or null when it is not JSON. */
export async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString());
  } catch {
    return null;
  }
}
