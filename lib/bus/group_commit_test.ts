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
