/**
 * Cluster-wide state with the real app (lib/cluster on KV): presence, join / leave once per
 * user, per-user connection caps and the login limiter across the isolates of
 * `deno serve --parallel`, across processes sharing one KV file, and across processes with
 * their own KV files on one Redis — and a killed process's members leaving within the TTL.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { DEMO_PASSWORD, demoToken } from "./_auth.ts";
import { fetchWithin, waitFor } from "./_deadline.ts";
import { type AppProcess, startApp } from "./_server.ts";
import { haveRedisServer, startRedis } from "./_redis.ts";
import { denoWebSocket, openOrRefused, openSocket, type TestSocket } from "./_ws.ts";

const ROOM = "presence:lobby";
const CAROL = { username: "carol", password: "a-long-enough-test-password-7" };

type Frame = Record<string, unknown>;

/** A socket of a user, and the isolate (`connected.data.server`) it reached. */
interface Connected {
  s: TestSocket;
  server: string;
}

async function connect(origin: string, token: string): Promise<Connected> {
  const s = await openSocket(`${origin.replace("http", "ws")}/api/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const hello = await s.next((f) => f.type === "connected", 10_000, "the connected frame");
  return { s, server: (hello.data as { server: string }).server };
}

/**
 * Connects until the socket lands on an isolate for which `want` is true (the kernel
 * spreads connections over the isolates of `--parallel`); bounded.
 */
async function connectWhere(
  origin: string,
  token: string,
  want: (server: string) => boolean,
  what: string,
): Promise<Connected> {
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) {
    const c = await connect(origin, token);
    if (want(c.server)) return c;
    seen.push(c.server);
    await c.s.close();
  }
  throw new Error(`Cannot reach ${what} in 40 connections; reached ${seen.join(", ")}`);
}

async function subscribe(c: Connected, id: string): Promise<void> {
  c.s.send({ type: "subscribe", id, channel: ROOM });
  await c.s.take((f) => f.type === "subscribed" && f.id === id, 10_000, `subscribed ${id}`);
}

/** Asks for presence until `accept` likes the answer (remote changes arrive within a refresh). */
async function presenceUntil(
  c: Connected,
  accept: (data: { count: number; members: { userId: string; connections: number }[] }) => boolean,
  what: string,
): Promise<{ count: number; members: { userId: string; name: string; connections: number }[] }> {
  let n = 0;
  let last: unknown;
  return await waitFor(async () => {
    const id = `p${++n}`;
    c.s.send({ type: "presence", id, channel: ROOM });
    const reply = await c.s.take((f) => f.type === "presence" && f.id === id, 5_000, what);
    last = reply.data;
    const data = reply.data as Parameters<typeof accept>[0];
    return accept(data) ? data as Awaited<ReturnType<typeof presenceUntil>> : null;
  }, { timeoutMs: 15_000, intervalMs: 100, what, detail: () => JSON.stringify(last) });
}

/** Presence events a socket has received so far (without consuming other frames). */
function events(frames: Frame[]): [string, string][] {
  return frames.filter((f) => f.type === "join" || f.type === "leave")
    .map((f) => [f.type as string, (f.data as { name: string }).name]);
}

/** Takes every join / leave queued on `c` so far (waits `ms` for late ones). */
async function drainEvents(c: Connected, into: Frame[], ms = 0): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      into.push(
        await c.s.take(
          (f) => f.type === "join" || f.type === "leave",
          Math.max(1, end - Date.now()),
        ),
      );
    } catch {
      return;
    }
  }
}

async function signUp(origin: string): Promise<void> {
  const res = await fetchWithin(`${origin}/api/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(CAROL),
  });
  await res.body?.cancel();
  ok(res.status === 201 || res.status === 409, `sign-up of carol: ${res.status}`);
}

async function carolToken(origin: string): Promise<string> {
  const res = await fetchWithin(`${origin}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(CAROL),
  });
  if (res.status !== 200) {
    throw new Error(`Cannot get carol's token: ${res.status} ${await res.text()}`);
  }
  return (await res.json()).token;
}

/** A wrong password for `nobody` (a fresh TCP connection each time); the HTTP status. */
async function wrongPassword(origin: string, client: Deno.HttpClient): Promise<number> {
  const res = await fetchWithin(`${origin}/api/token`, {
    method: "POST",
    client,
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ username: "nobody", password: "not-the-password" }),
  });
  await res.body?.cancel();
  return res.status;
}

const ENV = {
  DEMO_PASSWORD,
  WS_MAX_CONNECTIONS_PER_USER: "3",
  SIGNUPS_PER_HOUR_PER_IP: "100",
  CLUSTER_TTL_MS: "2000",
};

Deno.test({
  name:
    "[cluster] deno serve --parallel 2: presence, one join per user, caps and login limits span isolates",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    let app: AppProcess | undefined;
    const open: Connected[] = [];
    try {
      app = await startApp({ parallel: 2, env: { ...ENV, KV_PATH: `${dir}/kv.sqlite` } });
      const { origin } = app;
      await signUp(origin);
      const demo = await demoToken(origin);
      const carol = await carolToken(origin);

      // The watcher (demo) on isolate X; carol on the other isolate, Y.
      const w = await connect(origin, demo);
      open.push(w);
      await subscribe(w, "w");
      const u1 = await connectWhere(origin, carol, (s) => s !== w.server, "the other isolate");
      open.push(u1);
      await subscribe(u1, "u1");
      const seen: Frame[] = [];
      await presenceUntil(w, (d) => d.count === 2, "carol (on the other isolate) listed");
      await drainEvents(w, seen, 500);
      deepStrictEqual(events(seen), [["join", "demo"], ["join", "carol"]]);

      // Carol's second connection, on the watcher's isolate: no second join.
      const u2 = await connectWhere(origin, carol, (s) => s === w.server, "the watcher's isolate");
      open.push(u2);
      await subscribe(u2, "u2");
      await presenceUntil(
        w,
        (d) => d.members.find((m) => m.connections === 2) !== undefined,
        "carol's two connections (one per isolate) counted",
      );
      // Her connection on Y closes: she is still present (on X), no leave.
      await u1.s.close();
      await presenceUntil(
        w,
        (d) => d.count === 2 && d.members.every((m) => m.connections === 1),
        "carol's connection on the other isolate to be gone",
      );
      await drainEvents(w, seen, 300);
      deepStrictEqual(events(seen), [["join", "demo"], ["join", "carol"]], "no leave yet");
      // Her last connection closes: one leave.
      await u2.s.close();
      await drainEvents(w, seen, 2_000);
      deepStrictEqual(events(seen), [["join", "demo"], ["join", "carol"], ["leave", "carol"]]);

      // Per-user cap of 3 across isolates: demo holds w; two more open, then refused.
      const servers = new Set([w.server]);
      for (let i = 0; i < 2; i++) {
        const c = await connect(origin, demo);
        open.push(c);
        servers.add(c.server);
      }
      const ws = `${origin.replace("http", "ws")}/api/ws`;
      for (let i = 0; i < 6; i++) {
        const sock = denoWebSocket(ws, { headers: { authorization: `Bearer ${demo}` } });
        const outcome = await openOrRefused(sock);
        if (outcome === "open") sock.close();
        equal(outcome, "refused", `connection ${4 + i} of demo must be refused, wherever it lands`);
      }
      await open.pop()!.s.close();
      const fourth = await waitFor(async () => {
        const sock = denoWebSocket(ws, { headers: { authorization: `Bearer ${demo}` } });
        const outcome = await openOrRefused(sock);
        return outcome === "open" ? sock : null;
      }, { timeoutMs: 10_000, intervalMs: 100, what: "a slot to free up after a close" });
      fourth.close();

      // The login limiter: 12 wrong passwords, each on a new connection (spread over both
      // isolates by the kernel) → 10 evaluated, then refused.
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push(await wrongPassword(origin, client));
      deepStrictEqual(statuses, [...Array(10).fill(401), 429, 429]);
      console.log(`isolates reached by demo's connections: ${servers.size}`);
    } finally {
      for (const c of open) await c.s.close().catch(() => {});
      client.close();
      await app?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Two app processes A and B (each `envOf(name)`): wrong passwords alternating between
 * them are limited at 10; carol on B is listed on A; B killed → carol leaves on A.
 */
async function twoProcesses(envOf: (name: "a" | "b") => Record<string, string>): Promise<void> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const apps: AppProcess[] = [];
  const open: Connected[] = [];
  try {
    const a = await startApp({ env: envOf("a") });
    apps.push(a);
    const b = await startApp({ env: envOf("b") });
    apps.push(b);

    // The example: wrong passwords alternating between the processes.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await wrongPassword((i % 2 ? b : a).origin, client));
    deepStrictEqual(statuses, [...Array(10).fill(401), 429, 429]);

    // Tokens are signed with the shared AUTH_SECRET: valid on either process.
    await signUp(a.origin);
    const demo = await demoToken(a.origin);
    const carol = await carolToken(a.origin);
    const w = await connect(a.origin, demo);
    open.push(w);
    await subscribe(w, "w");
    const u = await connect(b.origin, carol);
    open.push(u);
    await subscribe(u, "u");
    const seen: Frame[] = [];
    await presenceUntil(w, (d) => d.count === 2, "carol, on process B, listed on A");
    await drainEvents(w, seen, 300);
    deepStrictEqual(events(seen), [["join", "demo"], ["join", "carol"]]);

    // B dies without any clean-up: carol leaves within the TTL (2 s) and a beat.
    const killedAt = performance.now();
    await b.kill();
    await waitFor(async () => {
      await drainEvents(w, seen, 100);
      return events(seen).length === 3;
    }, {
      timeoutMs: 10_000,
      what: "carol's leave after process B was killed",
      detail: () => JSON.stringify(events(seen)),
    });
    const tookMs = Math.round(performance.now() - killedAt);
    deepStrictEqual(events(seen).at(-1), ["leave", "carol"]);
    const listed = await presenceUntil(w, (d) => d.count === 1, "carol gone from the list");
    deepStrictEqual(listed.members.map((m) => m.name), ["demo"]);
    console.log(`killed process's member left after ${tookMs} ms (TTL 2 000 ms)`);
  } finally {
    for (const c of open) await c.s.close().catch(() => {});
    client.close();
    for (const app of apps) await app.stop();
  }
}

const AUTH_SECRET = "a-shared-test-secret-of-at-least-32-bytes!";

Deno.test({
  name:
    "[cluster] two processes on one KV file: limits count across them; a killed one's members leave",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await twoProcesses(() => ({ ...ENV, AUTH_SECRET, KV_PATH: `${dir}/kv.sqlite` }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const redisAvailable = await haveRedisServer();

Deno.test({
  name:
    "[cluster] two processes, own KV files, one REDIS_URL: limits count across them; a killed one's members leave",
  ignore: !redisAvailable,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    await using redis = await startRedis();
    try {
      await twoProcesses((name) => ({
        ...ENV,
        AUTH_SECRET,
        KV_PATH: `${dir}/${name}.sqlite`,
        REDIS_URL: redis.url,
      }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
