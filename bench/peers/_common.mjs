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
 * @returns {{ channels: string[], rate: number, ticks: number, payloadBytes: number, startAt?: number, seqFrom?: number } | string}
 *   the request, or an error message.
 */
export function parsePublish(body) {
  const { channels, rate, ticks, payloadBytes = 0, startAt, seqFrom = 0, groups } = body ?? {};
  if (!Array.isArray(channels) || !channels.every((c) => typeof c === "string")) {
    return "channels must be an array of strings";
  }
  if (channels.length > 10_000) return "at most 10 000 channels";
  if (!(typeof rate === "number" && rate > 0 && rate <= 100_000)) {
    return "rate must be a number in (0, 100000]";
  }
  if (!(Number.isInteger(ticks) && ticks >= 0 && ticks <= 10_000_000)) {
    return "ticks must be an integer in [0, 1e7]";
  }
  if (!(Number.isInteger(payloadBytes) && payloadBytes >= 0 && payloadBytes <= 65_536)) {
    return "payloadBytes must be an integer in [0, 65536]";
  }
  if (startAt !== undefined && !(typeof startAt === "number" && Number.isFinite(startAt))) {
    return "startAt must be a time in ms since the epoch";
  }
  if (!(Number.isInteger(seqFrom) && seqFrom >= 0)) return "seqFrom must be a non-negative integer";
  if (groups !== undefined && !(Number.isInteger(groups) && groups >= 1)) {
    return "groups must be a positive integer";
  }
  return { channels, rate, ticks, payloadBytes, startAt, seqFrom, groups };
}

/**
 * The open-loop publish schedule (bench/README.md): tick k of channel c (its index in
 * `channels`) is due at `startAt + (k + staggerOf(c, channels.length, groups)) * 1000 / rate`
 * ms since the epoch (`startAt` defaults to now): the channels form `groups` groups of
 * consecutive channels (default: one per channel), a group publishes together, and the groups
 * are staggered evenly over the interval — a feed publishing a round of symbols at once. Each
 * value is published when due (late ones at once, in order: no drift, nothing skipped) as
 * `data = { k: c, seq: seqFrom + k, t: <scheduled time>, pad }`; the receiver charges any
 * lateness of the publisher to the server.
 * @param {{ channels: string[], rate: number, ticks: number, payloadBytes: number, startAt?: number, seqFrom?: number, groups?: number }} request
 * @param {(channel: string, data: { k: number, seq: number, t: number, pad: string }) => void} publish
 * @returns {Promise<number>} the duration in ms.
 */
export function runTicks(
  { channels, rate, ticks, payloadBytes, startAt, seqFrom = 0, groups },
  publish,
) {
  const pad = "x".repeat(payloadBytes);
  const interval = 1000 / rate;
  const n = channels.length;
  const wall0 = startAt ?? Date.now();
  // The schedule on the monotonic clock.
  const perf0 = performance.now() + (wall0 - Date.now());
  const total = ticks * n;
  const started = performance.now();
  let e = 0; // next event: tick floor(e / n), channel e % n
  return new Promise((resolve) => {
    const step = () => {
      const now = performance.now();
      while (e < total) {
        const k = Math.floor(e / n);
        const c = e - k * n;
        const offset = (k + staggerOf(c, n, groups)) * interval;
        if (perf0 + offset > now) break;
        publish(channels[c], { k: c, seq: seqFrom + k, t: wall0 + offset, pad });
        e++;
      }
      if (e >= total) return resolve(performance.now() - started);
      const k = Math.floor(e / n);
      const next = perf0 + (k + staggerOf(e - k * n, n, groups)) * interval;
      setTimeout(step, Math.max(0, next - performance.now()));
    };
    step();
  });
}

/**
 * The fraction of the interval channel `c` of `n` is staggered by: `floor(c × groups / n) /
 * groups` (groups of consecutive channels; default one group per channel).
 * @param {number} c @param {number} n @param {number | undefined} groups
 */
export function staggerOf(c, n, groups = n) {
  const g = Math.min(Math.max(1, groups), n);
  return Math.floor((c * g) / n) / g;
}

/** The `GET /stats` body. */
export function stats(connections) {
  const cpu = process.cpuUsage();
  return {
    rss: process.memoryUsage.rss(),
    heapUsed: process.memoryUsage().heapUsed,
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
