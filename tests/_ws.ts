/** Helpers for tests that speak to the gateway over a real WebSocket. */

/**
 * Deno's WebSocket accepts `{ protocols, headers }` (e.g. `Authorization`); the DOM
 * typings this project also loads only know `protocols`.
 */
type DenoWebSocketConstructor = new (
  url: string,
  options: { protocols?: string[]; headers?: HeadersInit },
) => WebSocket;

/** `new WebSocket(url, { protocols, headers })`, typed. */
export function denoWebSocket(
  url: string,
  options: { protocols?: string[]; headers?: HeadersInit } = {},
): WebSocket {
  return new (WebSocket as unknown as DenoWebSocketConstructor)(url, options);
}

/** A connected socket with a queue of decoded frames to await in order. */
export interface TestSocket {
  socket: WebSocket;
  /** Resolves with the next frame matching `filter` (frames before it are consumed). */
  next(
    filter?: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Like `next`, but takes only the matching frame and leaves the others queued. */
  take(
    filter: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(message: unknown): void;
  close(): Promise<void>;
}

/** Opens a WebSocket and waits for it to be open. */
export async function openSocket(
  url: string,
  options?: {
    protocols?: string[];
    headers?: Record<string, string>;
    /** Answer server pings (default true); false to play a dead peer. */
    autoPong?: boolean;
  },
): Promise<TestSocket> {
  const socket = denoWebSocket(url, options);
  const queue: Record<string, unknown>[] = [];
  let wake: (() => void) | null = null;
  socket.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    // Answer the server's heartbeat like every client must; tests still see the ping.
    if (
      frame.type === "ping" && options?.autoPong !== false && socket.readyState === WebSocket.OPEN
    ) {
      socket.send('{"type":"pong"}');
    }
    queue.push(frame);
    wake?.();
  };
  const closed = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`Cannot open ${url}`));
  });
  /** Waits for a frame matching `filter`; `pick(index)` removes what the caller consumes. */
  async function wait(
    filter: (frame: Record<string, unknown>) => boolean,
    timeoutMs: number,
    pick: (index: number) => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex(filter);
      if (i >= 0) return pick(i);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out waiting for a frame; have ${JSON.stringify(queue)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }
  return {
    socket,
    next: (filter = () => true, timeoutMs = 5_000) =>
      wait(filter, timeoutMs, (i) => queue.splice(0, i + 1).at(-1)!),
    take: (filter, timeoutMs = 5_000) => wait(filter, timeoutMs, (i) => queue.splice(i, 1)[0]),
    send(message: unknown) {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    async close() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await closed;
    },
  };
}
