/** The bounded waits and child processes of `tests/_deadline.ts`. */
import { equal, match, ok, rejects } from "node:assert/strict";
import { type Child, deadline, fetchWithin, spawnChild, waitFor } from "./_deadline.ts";
import { FLOODS, IGNORES_SIGTERM, WAITS } from "./fixtures/children.ts";

/** A child's start can take seconds on a loaded machine; this bounds it, not the behaviour. */
const START_MS = 60_000;
/** Scheduling slack on a loaded machine for "soon after" checks. */
const SLACK_MS = 4_000;

const STUCK_CASE = new URL("./fixtures/stuck_child_case.ts", import.meta.url);

function isRunning(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat); // a zombie has exited already
  } catch {
    return false;
  }
}

Deno.test("[deadline] resolves with the value, or fails naming what it waited for", async () => {
  equal(await deadline(Promise.resolve(42), 1_000, "the answer"), 42);
  await rejects(deadline(Promise.reject(new Error("own error")), 1_000, "x"), /^Error: own error$/);
  const started = performance.now();
  await rejects(
    deadline(new Promise(() => {}), 50, "the moon"),
    (err: Error) => err.message === "Timed out after 50 ms waiting for the moon",
  );
  ok(performance.now() - started >= 45, "not before the deadline");
  // The op sanitizer (on here) fails this test if a deadline's timer were left running.
});

Deno.test("[deadline] waitFor returns the first truthy value or names what it waited for", async () => {
  let n = 0;
  equal(await waitFor(() => ++n >= 3 && n, { timeoutMs: 1_000, what: "n to reach 3" }), 3);
  equal(
    await waitFor(async () => await Promise.resolve("yes"), { timeoutMs: 100, what: "y" }),
    "yes",
  );
  let checks = 0;
  await rejects(
    waitFor(() => ++checks > 1e9, {
      timeoutMs: 100,
      intervalMs: 10,
      what: "a condition that never holds",
      detail: () => `${checks > 1} checks`,
    }),
    /^Error: Timed out after 100 ms waiting for a condition that never holds; last seen: true checks$/,
  );
  // A check that itself never settles is bounded too.
  await rejects(
    waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 50, what: "a stuck check" }),
    /^Error: Timed out after 50 ms waiting for a stuck check$/,
  );
  await rejects(
    waitFor(() => Promise.reject(new Error("broken check")), { timeoutMs: 500, what: "z" }),
    /^Error: broken check$/,
  );
});

Deno.test("[deadline] fetchWithin aborts a stalled response or body, naming the request", async () => {
  const release = Promise.withResolvers<void>();
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ok") return new Response("fine");
      if (path === "/stalled-body") {
        return new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("part"));
              await release.promise;
              c.close();
            },
          }),
        );
      }
      await release.promise;
      return new Response("late");
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  try {
    equal(await (await fetchWithin(`${origin}/ok`)).text(), "fine");
    await rejects(
      fetchWithin(`${origin}/stalled`, { method: "POST", timeoutMs: 200 }),
      (err: Error) => err.message === `Timed out after 200 ms waiting for POST ${origin}/stalled`,
    );
    const res = await fetchWithin(`${origin}/stalled-body`, { timeoutMs: 300 });
    equal(res.status, 200);
    await rejects(
      res.text(),
      (err: Error) =>
        err.message === `Timed out after 300 ms waiting for GET ${origin}/stalled-body`,
    );
  } finally {
    release.resolve();
    ac.abort();
    await deadline(server.finished, 5_000, "the test server to finish");
  }
});

Deno.test("[child] output of both pipes is drained while the child runs", async () => {
  await using child = spawnChild(Deno.execPath(), ["eval", FLOODS], { name: "a flooding child" });
  // Without a continuous drain the child blocks on its first full pipe and never says "done".
  await child.waitForOutput(/^done$/m, START_MS, "the child to print 2 MiB and then done");
  const status = await deadline(child.status, 10_000, "the flooding child to exit");
  equal(status.code, 0);
  await child.stop();
  equal(child.output().replace(/\s/g, "").length, 2 * 1024 * 1024 + "done".length);
});

Deno.test("[child] a child that exits on SIGTERM is not killed", async () => {
  const child = spawnChild(Deno.execPath(), ["eval", WAITS]);
  try {
    await child.waitForOutput(/^ready$/m, START_MS, "the child to start");
    const started = performance.now();
    const status = await child.stop({ graceMs: 20_000 });
    const took = performance.now() - started;
    equal(status.signal, "SIGTERM");
    ok(took < 20_000, `exited after SIGTERM in ${took.toFixed(0)} ms`);
  } finally {
    await child.kill();
  }
});

Deno.test("[child] a child that ignores SIGTERM is killed after the grace period", async () => {
  const child = spawnChild(Deno.execPath(), ["eval", IGNORES_SIGTERM]);
  try {
    await child.waitForOutput(/^ready$/m, START_MS, "the child to start");
    const graceMs = 1_000;
    const started = performance.now();
    const status = await child.stop({ graceMs });
    const took = performance.now() - started;
    equal(status.signal, "SIGKILL");
    ok(took >= graceMs - 50, `waited the grace period: ${took.toFixed(0)} ms`);
    ok(took < graceMs + SLACK_MS, `cleaned up within grace + slack: ${took.toFixed(0)} ms`);
    match(child.output(), /ignoring SIGTERM/, "the child did get SIGTERM first");
    equal(isRunning(child.pid), false, "no process left");
    equal(await child.stop(), status, "stop() again is a no-op with the same status");
  } finally {
    await child.kill();
  }
});

Deno.test("[child] a wait that expires fails naming it, and `await using` still kills the child", async () => {
  let child: Child | undefined;
  const started = performance.now();
  await rejects(
    async () => {
      await using c = spawnChild(Deno.execPath(), ["eval", IGNORES_SIGTERM], { name: "stubborn" });
      child = c;
      await c.waitForOutput(/^ready$/m, START_MS, "the child to start");
      await c.waitForOutput(/never printed/, 300, "a line the child never prints");
    },
    /^Error: Timed out after 300 ms waiting for a line the child never prints; stubborn printed:\nready\n/,
  );
  ok(child, "the child was spawned");
  const status = await deadline(child.status, 1, "the status of a child already stopped");
  equal(status.signal, "SIGKILL", "SIGTERM was ignored, so SIGKILL after the grace period");
  equal(isRunning(child.pid), false);
  ok(performance.now() - started < START_MS, "in time");
});

Deno.test("[child] waiting for output of a child that exits first fails at once", async () => {
  await using child = spawnChild(Deno.execPath(), ["eval", "console.log('bye')"], {
    name: "brief",
  });
  await rejects(
    child.waitForOutput(/hello/, START_MS, "a greeting"),
    /^Error: Cannot wait for a greeting: brief exited first; its output:\nbye\n$/,
  );
});

Deno.test("[child] a test stuck on a child that ignores SIGTERM fails in time and leaves no process", async () => {
  await using run = spawnChild(
    Deno.execPath(),
    ["test", "-A", "--no-check", STUCK_CASE.pathname],
    { name: "deno test stuck_child_case.ts", env: { NO_COLOR: "1" } },
  );
  const [, pid] = await run.waitForOutput(/child pid (\d+)/, START_MS, "the stuck test's child");
  const started = performance.now();
  const status = await deadline(run.status, START_MS, "the stuck test run to end");
  const took = performance.now() - started;
  await run.stop();
  const output = run.output();
  equal(status.code, 1, `the run fails:\n${output}`);
  match(output, /Timed out after 1000 ms waiting for a line the child never prints/);
  match(output, /FAILED \| 0 passed \| 1 failed/);
  // 1 s of waiting, 3 s of grace before SIGKILL, and the runner's own exit.
  ok(took < 1_000 + 3_000 + SLACK_MS + 3_000, `failed ${took.toFixed(0)} ms after the wait began`);
  equal(isRunning(Number(pid)), false, `the child ${pid} is gone`);
});
