/**
 * One test suite for every cluster store (KV: kv_store_test.ts; Redis:
 * redis_store_test.ts): several "isolates" — each its own store instance, cluster state
 * and hub — on one engine, with one manual clock, so liveness and expiry are exact.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { createLoginLimiter } from "../auth/login_limiter.ts";
import { testHub, user } from "../gateway/_test_util.ts";
import { deadline, waitFor } from "../../tests/_deadline.ts";
import { type ClusterState, createClusterState } from "./cluster_state.ts";
import type { ClusterStore } from "./types.ts";

/** An engine under test: stores for any number of isolates on one backend. */
export interface ConformanceWorld extends AsyncDisposable {
  /** A store for `isolate` on the shared backend, reading the clock `now`. */
  store(isolate: string, now: () => number): ClusterStore | Promise<ClusterStore>;
}

const TTL_MS = 10_000;

interface Isolate {
  id: string;
  state: ClusterState;
  hub: ReturnType<typeof testHub>["hub"];
  connect: ReturnType<typeof testHub>["connect"];
}

/** Joins and leaves a fake connection saw, as `[type, userId]`. */
function presenceEvents(frames: Record<string, unknown>[]): [string, string][] {
  return frames.filter((f) => f.type === "join" || f.type === "leave")
    .map((f) => [f.type as string, (f.data as { userId: string }).userId]);
}

/** Registers the suite for `engine`; `open` builds a fresh world per test. */
export function clusterConformance(
  engine: string,
  open: () => Promise<ConformanceWorld>,
  testOptions: { ignore?: boolean } = {},
): void {
  const test = (
    name: string,
    fn: (world: ConformanceWorld, clock: { t: number }) => Promise<void>,
  ) =>
    Deno.test({
      name: `[cluster:${engine}] ${name}`,
      ignore: testOptions.ignore,
      async fn() {
        await using world = await open();
        await deadline(fn(world, { t: 1_000_000 }), 30_000, `the test "${name}" to finish`);
      },
    });

  /** Starts an isolate: its store, cluster state (no background beat) and hub. */
  async function isolate(
    world: ConformanceWorld,
    clock: { t: number },
    id: string,
    maxPresenceMembers = 100,
  ): Promise<Isolate> {
    const now = () => clock.t;
    const state = await createClusterState({
      store: await world.store(id, now),
      isolate: id,
      maxPresenceMembers,
      beatMs: 3_600_000, // beats are driven by the test
      ttlMs: TTL_MS,
      presencePollMs: 10,
      now,
    });
    const { hub, connect } = testHub({
      serverId: id,
      presence: state.presence.tracker,
      observer: state.slots,
      limits: { maxPresenceMembers },
    });
    hub.stop();
    return { id, state, hub, connect };
  }

  /** Lets every isolate write what changed, then read what the others wrote. */
  async function settle(...isolates: Isolate[]): Promise<void> {
    for (const i of isolates) await i.state.presence.settle();
    for (const i of isolates) await i.state.presence.settle();
  }

  test(
    "presence: a user on B is listed on A; one join and one leave cluster-wide",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const w = a.connect(user("w"));
        w.send({ type: "subscribe", channel: "room:r" });
        await settle(a);
        const onB = b.connect(user("u"));
        onB.send({ type: "subscribe", channel: "room:r" });
        await settle(a, b);
        await waitFor(() => presenceEvents(w.t.frames).length >= 2, {
          timeoutMs: 5_000,
          what: "the watcher on A to be told that u joined on B",
          detail: () => JSON.stringify(presenceEvents(w.t.frames)),
        });
        deepStrictEqual(presenceEvents(w.t.frames), [["join", "w"], ["join", "u"]]);
        deepStrictEqual(presenceEvents(onB.t.frames), [["join", "u"]], "u's own join, on B");

        w.send({ type: "presence", id: "q1", channel: "room:r" });
        const listed = await waitFor(() => w.t.ofType("presence")[0], {
          timeoutMs: 5_000,
          what: "the presence answer on A",
        });
        deepStrictEqual(listed.data, {
          count: 2,
          members: [
            { userId: "w", name: "w", connections: 1 },
            { userId: "u", name: "u", connections: 1 },
          ],
          truncated: false,
        });

        // u's second connection, on A: no second join anywhere.
        const onA = a.connect(user("u"));
        onA.send({ type: "subscribe", channel: "room:r" });
        await settle(a, b);
        w.send({ type: "presence", id: "q2", channel: "room:r" });
        const second = await waitFor(() => w.t.ofType("presence")[1], {
          timeoutMs: 5_000,
          what: "the second presence answer on A",
        });
        deepStrictEqual(
          (second.data as { members: unknown[] }).members[1],
          { userId: "u", name: "u", connections: 2 },
          "u's connections counted on both isolates",
        );

        // u leaves B: still on A, no leave. Then leaves A: one leave.
        b.hub.closed(onB.conn, 1000);
        await settle(a, b);
        onA.send({ type: "unsubscribe", channel: "room:r" });
        await settle(a, b);
        deepStrictEqual(presenceEvents(w.t.frames), [["join", "w"], ["join", "u"], ["leave", "u"]]);
        equal(a.hub.presence.count("room:r"), 1);
        deepStrictEqual(presenceEvents(onA.t.frames), [], "u on A was never told u joined");
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test(
    "presence: an isolate that dies loses its members within the TTL, then is swept",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const w = a.connect(user("w"));
        w.send({ type: "subscribe", channel: "room:r" });
        b.connect(user("u")).send({ type: "subscribe", channel: "room:r" });
        await settle(a, b);
        deepStrictEqual(presenceEvents(w.t.frames), [["join", "w"], ["join", "u"]]);
        equal(await a.state.slots.count("u"), 1, "u's connection on B counts on A");
        // B dies: no clean-up at all (its entries stay in the store), no more beats.
        await b.state.presence.close();
        await b.state.slots.close();
        clock.t += TTL_MS - 1;
        await a.state.cluster.beat();
        deepStrictEqual(presenceEvents(w.t.frames).length, 2, "not before the TTL");
        clock.t += 2;
        await a.state.cluster.beat();
        deepStrictEqual(presenceEvents(w.t.frames), [["join", "w"], ["join", "u"], ["leave", "u"]]);
        equal(await a.state.slots.count("u"), 0, "B's connections no longer count");
        w.send({ type: "presence", id: "q", channel: "room:r" });
        const listed = await waitFor(() => w.t.ofType("presence")[0], {
          timeoutMs: 5_000,
          what: "the presence answer on A",
        });
        equal((listed.data as { count: number }).count, 1);
        // The sweeper (A, the only live isolate) removes B's entries, then forgets B.
        await a.state.cluster.beat();
        await a.state.cluster.beat();
        const store = await world.store("probe", () => clock.t);
        deepStrictEqual(
          (await store.listPresence("room:r", 100)).map((e) => [e.userId, e.isolate]),
          [["w", "iso-a"]],
        );
        deepStrictEqual((await store.isolates(100)).map((r) => r.isolate), ["iso-a"]);
        await store.close();
      } finally {
        await a.state.close();
      }
    },
  );

  test(
    "presence: an isolate whose record expired writes its entries again",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const w = a.connect(user("w"));
        w.send({ type: "subscribe", channel: "room:r" });
        b.connect(user("u")).send({ type: "subscribe", channel: "room:r" });
        await settle(a, b);
        // B stalls past the TTL: A drops and sweeps it (A has the smallest id).
        clock.t += TTL_MS + 1;
        await a.state.cluster.beat();
        await a.state.cluster.beat();
        deepStrictEqual(presenceEvents(w.t.frames).at(-1), ["leave", "u"]);
        // B wakes up: its beat finds its record gone and writes everything again.
        await b.state.cluster.beat();
        equal(b.state.cluster.stats().resyncs, 1);
        await a.state.cluster.beat();
        await settle(b, a);
        await waitFor(() => presenceEvents(w.t.frames).length === 4, {
          timeoutMs: 5_000,
          what: "u to be announced again on A",
          detail: () => JSON.stringify(presenceEvents(w.t.frames)),
        });
        deepStrictEqual(presenceEvents(w.t.frames).at(-1), ["join", "u"]);
        equal(await a.state.slots.count("u"), 1, "B's connection counts again");
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test(
    "connection cap: N per user across isolates, the N+1th refused wherever it lands",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        // Eight concurrent reservations, alternating isolates, against a cap of 3.
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? b : a).state.slots.reserve("u", 3)),
        );
        equal(results.filter(Boolean).length, 3, `granted: ${results}`);
        // The reservations become connections (on whichever isolate got them).
        const granted = results.map((r, i) => r ? (i % 2 ? b : a) : null);
        const conns = granted.flatMap((iso) => iso ? [{ iso, c: iso.connect(user("u")) }] : []);
        equal(await a.state.slots.count("u"), 3);
        equal(await a.state.slots.reserve("u", 3), false, "A: full");
        equal(await b.state.slots.reserve("u", 3), false, "B: full");
        equal(await a.state.slots.reserve("other", 3), true, "another user is not affected");
        // One closes: one slot frees, cluster-wide.
        conns[0].iso.hub.closed(conns[0].c.conn, 1000);
        await conns[0].iso.state.slots.settle();
        equal(await a.state.slots.count("u"), 2);
        const again = conns[0].iso === a ? b : a;
        equal(
          await again.state.slots.reserve("u", 3),
          true,
          "the freed slot, from the other isolate",
        );
        equal(await a.state.slots.reserve("u", 3), false);
        // An admitted connection that never opens gives its slot back after 30 s.
        clock.t += 30_001;
        for (const i of [a, b, a]) await i.state.cluster.beat(); // they beat meanwhile
        await waitFor(async () => (await a.state.slots.count("u")) === 2, {
          timeoutMs: 5_000,
          what: "the unopened reservation to lapse",
        });
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test(
    "login limiter: 12 wrong passwords alternating between isolates → refused after 10",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const now = () => clock.t;
        const sleep = (ms: number) => {
          clock.t += ms;
          return Promise.resolve();
        };
        const limiters = [a, b].map((i) =>
          createLoginLimiter({ store: i.state.attempts, now, sleep })
        );
        const outcomes: string[] = [];
        for (let i = 0; i < 12; i++) {
          const gate = await limiters[i % 2].enter("alice", "10.0.0.1");
          if (!gate.ok) outcomes.push(`429 ${gate.retryAfterSec}`);
          else {
            await gate.fail();
            outcomes.push("401");
          }
        }
        deepStrictEqual(outcomes, [...Array(10).fill("401"), "429 900", "429 900"]);
        // 40 concurrent guesses for another name across both isolates: 10 reserved.
        let hashed = 0;
        const gates = await Promise.all(
          Array.from({ length: 40 }, (_, i) => limiters[i % 2].enter("bob", "10.0.0.2")),
        );
        for (const g of gates) {
          if (g.ok) {
            hashed++;
            await g.fail();
          }
        }
        equal(hashed, 10);
        // The address budget (30) is shared too: 10 + 10 used on 10.0.0.1 by alice alone.
        equal(await limiters[1].delayFor("alice"), 250, "alice's 10 failures: the delay starts");
        // A right password clears the pair, on whichever isolate.
        const ok1 = await limiters[0].enter("carol", "10.0.0.3");
        ok(ok1.ok);
        await ok1.fail();
        const ok2 = await limiters[1].enter("carol", "10.0.0.3");
        ok(ok2.ok);
        await ok2.succeed();
        deepStrictEqual(
          await a.state.attempts.usage(
            { scope: "pair", key: "10.0.0.3\ncarol", budget: 10 },
            900_000,
          ),
          {
            counted: 0,
            inFlight: 0,
          },
        );
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test(
    "login limiter: an attempt in flight on a dead isolate stops counting after its hold",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const key = { scope: "pair", key: "k", budget: 1 };
        const held = await b.state.attempts.begin([key], 900_000);
        ok(held.ok, "B reserved the only attempt");
        equal((await a.state.attempts.begin([key], 900_000)).ok, false, "A: in flight on B");
        clock.t += 60_001; // B died mid-attempt: its reservation lapses
        const later = await a.state.attempts.begin([key], 900_000);
        ok(later.ok);
        await later.end({ counted: true });
        deepStrictEqual(await a.state.attempts.usage(key, 900_000), { counted: 1, inFlight: 0 });
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test(
    "leases: one holder cluster-wide, released at once, taken over after expiry",
    async (world, clock) => {
      const a = await isolate(world, clock, "iso-a");
      const b = await isolate(world, clock, "iso-b");
      try {
        const la = a.state.leases;
        const lb = b.state.leases;
        const racers = await Promise.all([
          la.acquire("m", "A", 60_000),
          lb.acquire("m", "B", 60_000),
        ]);
        equal(racers.filter(Boolean).length, 1, "one of two racers wins");
        const [winner, loser] = racers[0]
          ? [["A", la], ["B", lb]] as const
          : [["B", lb], ["A", la]] as const;
        equal(await la.holder("m"), winner[0]);
        equal(await loser[1].acquire("m", loser[0], 60_000), false);
        equal(await winner[1].acquire("m", winner[0], 60_000), true, "renewal");
        await loser[1].release("m", loser[0]);
        equal(await la.holder("m"), winner[0], "only the holder releases");
        await winner[1].release("m", winner[0]);
        equal(await lb.holder("m"), null);
        // Expiry: a short lease, not renewed, is taken by the other (real and fake time both pass).
        equal(await la.acquire("x", "A", 150), true);
        clock.t += 200;
        await waitFor(() => lb.acquire("x", "B", 60_000), {
          timeoutMs: 5_000,
          intervalMs: 50,
          what: "B to take the expired lease",
        });
        equal(await la.holder("x"), "B");
      } finally {
        await Promise.all([a.state.close(), b.state.close()]);
      }
    },
  );

  test("bounds: members listed up to the limit, every user counted", async (world, clock) => {
    const a = await isolate(world, clock, "iso-a", 3);
    const b = await isolate(world, clock, "iso-b", 3);
    try {
      for (const name of ["u1", "u2", "u3", "u4"]) {
        b.connect(user(name)).send({ type: "subscribe", channel: "room:big" });
      }
      const w = a.connect(user("w"));
      w.send({ type: "subscribe", channel: "room:big" });
      await settle(a, b);
      w.send({ type: "presence", id: "q", channel: "room:big" });
      const listed = await waitFor(() => w.t.ofType("presence")[0], {
        timeoutMs: 5_000,
        what: "the presence answer",
      });
      const data = listed.data as { count: number; members: unknown[]; truncated: boolean };
      equal(data.members.length, 3);
      equal(data.truncated, true);
      // B writes at most 3 users of one channel: u4 is counted on B only.
      const store = await world.store("probe", () => clock.t);
      equal(
        (await store.listPresence("room:big", 100)).filter((e) => e.isolate === "iso-b").length,
        3,
      );
      await store.close();
    } finally {
      await Promise.all([a.state.close(), b.state.close()]);
    }
  });
}
