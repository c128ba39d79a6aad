import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import type { BusMessage } from "../bus/engine.ts";
import { accountKey, notifItemPrefix } from "../kv/keys.ts";
import { memoryLog, rawRecord, tempKvPath, writeRaw } from "../bus/jobs_testing.ts";
import { openKv } from "../kv/open.ts";
import { waitFor } from "../../tests/_deadline.ts";
import { createNotifier, type Notifier, type NotifierOptions, NOTIFY_QUEUE } from "./delivery.ts";
import { NotificationInputError } from "./schema.ts";
import type { InboxEvent, Notification, NotificationInput } from "./types.ts";

/** A bus that records publishes and commits a key once per channel, like the KV bus. */
function fakeBus(options: { failFirst?: number } = {}) {
  let failures = options.failFirst ?? 0;
  const published: { channel: string; data: InboxEvent }[] = [];
  const keys = new Set<string>();
  return {
    published,
    attempts: 0,
    publish(channel: string, data: unknown, opts: { idempotencyKey?: string } = {}) {
      this.attempts++;
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error("bus unavailable"));
      }
      const scoped = opts.idempotencyKey === undefined ? null : `${channel}|${opts.idempotencyKey}`;
      if (scoped === null || !keys.has(scoped)) {
        if (scoped) keys.add(scoped);
        published.push({ channel, data: data as InboxEvent });
      }
      return Promise.resolve({ channel, epoch: "e", offset: published.length, ts: 0, data });
    },
  };
}

function input(
  userId: string,
  n: number,
  extra: Partial<NotificationInput> = {},
): NotificationInput {
  return {
    userId,
    category: "price_alert",
    priority: "normal",
    title: `Item ${n}`,
    body: "",
    idempotencyKey: `k${n}`,
    ...extra,
  };
}

async function items(kv: Deno.Kv, userId: string): Promise<Notification[]> {
  const out: Notification[] = [];
  for await (const e of kv.list<Notification>({ prefix: notifItemPrefix(userId) })) {
    out.push(e.value);
  }
  return out;
}

const FAST = {
  claimTtlMs: 300,
  leaseTtlMs: 300,
  sweepIntervalMs: 100,
  sweepGraceMs: 500,
  backoff: () => 20,
  maxAttempts: 3,
};

async function notifier(
  kv: Deno.Kv,
  backend: "kv-queue" | "outbox",
  extra: Partial<NotifierOptions> = {},
): Promise<Notifier> {
  return await createNotifier({
    kv,
    bus: fakeBus(),
    backend,
    log: memoryLog(),
    jobs: FAST,
    ...extra,
  });
}

for (const backend of ["kv-queue", "outbox"] as const) {
  Deno.test(`[notifications] ${backend}: durable delivery, exactly once per key, pushed with counts`, async () => {
    const kv = await Deno.openKv(":memory:");
    const bus = fakeBus();
    const n = await notifier(kv, backend, { bus });
    try {
      n.start();
      equal(n.backend, backend);
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await n.notify(input(i % 2 ? "ann" : "bob", i)));
      const again = await n.notify(input("ann", 1));
      equal(again.duplicate, true, "the same key is one job");
      equal(again.id, results[1].id);
      await rejects(
        n.notify(input("ann", 99, { link: "https://evil.example/" })),
        NotificationInputError,
      );
      await waitFor(
        async () => (await items(kv, "ann")).length + (await items(kv, "bob")).length === 20,
        {
          timeoutMs: 10_000,
          what: "20 deliveries",
        },
      );
      const ann = await items(kv, "ann");
      equal(new Set(ann.map((i) => i.title)).size, 10, "no doubles");
      await waitFor(() => bus.published.length === 20, { timeoutMs: 5_000, what: "20 pushes" });
      const last = bus.published.filter((p) => p.channel === "user:ann").at(-1)!.data;
      equal(last.type, "notification");
      deepEqual(last.counts, { unseen: 10, unread: 10 }, "the counts after the change");
      const status = await n.status();
      equal(status.counters.created, 20);
      equal(status.deadLetters.count, 0);
    } finally {
      await n.stop();
      kv.close();
    }
  });

  Deno.test(`[notifications] ${backend}: a poison notification is dead-lettered and blocks nothing`, async () => {
    const kv = await Deno.openKv(":memory:");
    const log = memoryLog();
    const n = await notifier(kv, backend, { log });
    try {
      // A payload no version of the store accepts, written behind notify()'s back.
      const poison = rawRecord({ userId: "ann", title: 42 }, "poison");
      await writeRaw(kv, NOTIFY_QUEUE, poison, backend);
      n.start();
      for (let i = 0; i < 10; i++) await n.notify(input("ann", i));
      await waitFor(async () => (await items(kv, "ann")).length === 10, {
        timeoutMs: 10_000,
        what: "the good notifications",
      });
      const status = await waitFor(async () => {
        const s = await n.status();
        return s.deadLetters.count === 1 && s;
      }, { timeoutMs: 10_000, what: "the poison job to be dead-lettered" });
      equal(status.deadLetters.oldest[0].id, poison.id);
      equal(status.deadLetters.oldest[0].userId, "ann");
      equal(status.deadLetters.oldest[0].attempts, 3);
      ok(
        /Cannot accept the notification/.test(status.deadLetters.oldest[0].error),
        status.deadLetters.oldest[0].error,
      );
      ok(log.lines.some((l) => l.includes("notification dead-lettered")));
    } finally {
      await n.stop();
      kv.close();
    }
  });
}

Deno.test("[notifications] a delivery whose push failed runs again and pushes once", async () => {
  const kv = await Deno.openKv(":memory:");
  const bus = fakeBus({ failFirst: 2 });
  const n = await notifier(kv, "kv-queue", { bus });
  try {
    n.start();
    await n.notify(input("ann", 1));
    await waitFor(() => bus.published.length === 1, { timeoutMs: 10_000, what: "the push" });
    const status = await waitFor(async () => {
      const s = await n.status();
      return s.delivery.processed === 1 && s;
    }, { timeoutMs: 5_000, what: "the job to finish" });
    equal(status.counters.created, 1);
    equal(status.counters.duplicates, 2, "two more runs found the item committed");
    equal((await items(kv, "ann")).length, 1, "one item");
    equal(bus.attempts, 3);
    equal(bus.published[0].data.type, "notification");
  } finally {
    await n.stop();
    kv.close();
  }
});

Deno.test("[notifications] a system announcement reaches every account once, in batches, seen by two isolates", async () => {
  // Two isolates: two handles on one KV file.
  const tmp = await tempKvPath();
  const kv = await openKv({ path: tmp.path });
  const kv2 = await openKv({ path: tmp.path });
  const users = ["a1", "a2", "a3", "a4", "a5"];
  for (const id of users) await kv.set(accountKey(id), { id });
  const a = await notifier(kv, "kv-queue", { announceBatch: 2, holder: "A" });
  const b = await notifier(kv2, "kv-queue", { announceBatch: 2, holder: "B" });
  try {
    a.start();
    b.start();
    const message: BusMessage = {
      channel: "system",
      epoch: "ep",
      offset: 7,
      ts: 0,
      data: { title: "Maintenance", body: "At 02:00 UTC", link: "/status" },
      from: "admin-id",
    };
    // Every isolate sees the bus message.
    a.onBusMessage(message);
    b.onBusMessage(message);
    a.onBusMessage({ ...message, channel: "presence:lobby" }); // not an announcement
    await waitFor(async () => {
      for (const id of users) if ((await items(kv, id)).length !== 1) return false;
      return true;
    }, { timeoutMs: 10_000, what: "one announcement per account" });
    await new Promise((r) => setTimeout(r, 200)); // nothing more comes
    for (const id of users) {
      const [item] = await items(kv, id);
      equal((await items(kv, id)).length, 1);
      equal(item.category, "system");
      equal(item.title, "Maintenance");
      equal(item.link, "/status");
    }
    const batches = (await a.status()).counters.fanoutBatches +
      (await b.status()).counters.fanoutBatches;
    equal(batches, 3, "5 accounts in batches of 2");
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    kv.close();
    kv2.close();
    await tmp.remove();
  }
});
