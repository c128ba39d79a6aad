import { deepStrictEqual, equal } from "node:assert/strict";
import { createGroupCommit } from "./group_commit.ts";

Deno.test("[group commit] one moment's items share a round; later ones wait for the next, in order", async () => {
  const batches: number[][] = [];
  let release: () => void = () => {};
  let first = true;
  const queue = createGroupCommit<number>({
    take: (pending) => Math.min(3, pending.length),
    async commit(batch) {
      batches.push(batch);
      if (first) {
        first = false;
        await new Promise<void>((resolve) => release = resolve);
      }
    },
  });
  for (const n of [1, 2]) queue.push(n);
  await Promise.resolve();
  await Promise.resolve();
  // The first round is committing: these queue behind it.
  for (const n of [3, 4, 5, 6, 7]) queue.push(n);
  equal(queue.size, 5);
  release();
  await queue.idle();
  deepStrictEqual(batches, [[1, 2], [3, 4, 5], [6, 7]]);
  equal(queue.size, 0);
});

Deno.test("[group commit] take is held to at least one item", async () => {
  const batches: string[][] = [];
  const queue = createGroupCommit<string>({
    take: () => 0,
    commit: (batch) => Promise.resolve(void batches.push(batch)),
  });
  queue.push("a");
  queue.push("b");
  await new Promise((resolve) => setTimeout(resolve, 0));
  await queue.idle();
  deepStrictEqual(batches, [["a"], ["b"]]);
});

Deno.test("[group commit] a keyed item replaces the waiting one of its key, in its place", async () => {
  const batches: string[][] = [];
  const replaced: string[] = [];
  let release: () => void = () => {};
  let first = true;
  const queue = createGroupCommit<string>({
    take: (pending) => pending.length,
    async commit(batch) {
      batches.push(batch);
      if (first) {
        first = false;
        await new Promise<void>((resolve) => release = resolve);
      }
    },
    // "p…" items are latest values of channel p (the letter after it); others never replace.
    keyOf: (item) => item.startsWith("p") ? item[1] : undefined,
    replaced: (older, newer) => replaced.push(`${older}→${newer}`),
  });
  queue.push("pA1");
  await Promise.resolve();
  await Promise.resolve();
  // pA1 is being committed: pA2 does not replace it, pA3 replaces pA2 (waiting).
  for (const item of ["pA2", "o1", "pB1", "pA3", "o2", "pB2", "pA4"]) queue.push(item);
  equal(queue.size, 4);
  release();
  await queue.idle();
  deepStrictEqual(batches, [["pA1"], ["pA4", "o1", "pB2", "o2"]]);
  deepStrictEqual(replaced, ["pA2→pA3", "pB1→pB2", "pA3→pA4"]);
  // After its round, a key starts afresh.
  queue.push("pA5");
  queue.push("pA6");
  await queue.idle();
  await new Promise((resolve) => setTimeout(resolve, 0));
  await queue.idle();
  deepStrictEqual(batches.slice(2), [["pA6"]]);
});
