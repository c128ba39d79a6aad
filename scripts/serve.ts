/**
 * The guarded server (`deno task start` runs it unless `NET_GUARD=off`): the app's
 * isolates — one per core like `deno serve --parallel`, `DENO_JOBS` overrides — each
 * serving `main.ts`'s handler through the connection guard (lib/net/guard.ts) on a
 * shared port (`SO_REUSEPORT`). Why not `deno serve`: its accept loop lives in the
 * runtime, which offers no hook for the deadlines and caps we need, and the process
 * exits when `accept()` fails with EMFILE (docs/SECURITY.md).
 *
 *   deno run -A --unstable-net scripts/serve.ts      (PORT, HOSTNAME as for deno serve)
 *
 * Prints `Listening on http://HOST:PORT/` once every isolate listens; forwards SIGINT /
 * SIGTERM (each isolate closes its sockets with 4000) and exits when all have stopped.
 */
import { loadConfig } from "../lib/app/config.ts";
import { isolateCount } from "./_isolates.ts";
import { describeNoFileLimit, raiseNoFileLimit } from "../lib/net/rlimit.ts";
import { type IsolateNote, runIsolate } from "./serve_isolate.ts";

/** How long the isolates get to stop after a signal before the process exits, ms. */
const STOP_DEADLINE_MS = 6_000;

const config = loadConfig(Deno.env);
const jobs = isolateCount(config);
console.log(describeNoFileLimit(raiseNoFileLimit()));

const { hostname } = config;
let port = config.port;
// Port 0 with several isolates: take a free port first, so every isolate binds the same.
let placeholder: Deno.TcpListener | undefined;
if (port === 0 && jobs > 1) {
  placeholder = Deno.listen({ hostname, port: 0, reusePort: true } as Deno.TcpListenOptions);
  port = placeholder.addr.port;
}

function listening(actualPort: number): void {
  placeholder?.close();
  const shown = hostname === "0.0.0.0"
    ? `http://0.0.0.0:${actualPort}/ (http://localhost:${actualPort}/)`
    : `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${actualPort}/`;
  console.log(
    `Listening on ${shown} with the connection guard (${jobs} isolate${jobs > 1 ? "s" : ""})`,
  );
}

if (jobs === 1) {
  // One isolate: this thread. main.ts's shutdown handler ends the process.
  await runIsolate({ hostname, port, isolates: 1 }, (note: IsolateNote) => {
    if ("error" in note) {
      console.error(`Cannot start: ${note.error}`);
      Deno.exit(1);
    }
    if ("ready" in note) listening(note.port);
  });
} else {
  let ready = 0;
  let stopped = 0;
  const workers: Worker[] = [];
  for (let i = 0; i < jobs; i++) {
    const worker = new Worker(new URL("./serve_isolate.ts", import.meta.url), {
      type: "module",
      name: `isolate-${i + 1}`,
    });
    worker.onmessage = (e: MessageEvent<IsolateNote>) => {
      const note = e.data;
      if ("error" in note) {
        console.error(`Cannot start isolate ${i + 1}: ${note.error}`);
        Deno.exit(1);
      }
      if ("ready" in note && ++ready === jobs) listening(port);
      if ("stopped" in note && ++stopped === jobs) Deno.exit(0);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      console.error(`Isolate ${i + 1} failed: ${e.message}`);
      Deno.exit(1);
    };
    worker.postMessage({ hostname, port, isolates: jobs });
    workers.push(worker);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, () => {
        setTimeout(() => Deno.exit(0), STOP_DEADLINE_MS);
      });
    } catch {
      // No SIGTERM on Windows.
    }
  }
}
