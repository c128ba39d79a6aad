/**
 * Helpers for tests that speak to the gateway over a real WebSocket. Every wait has a
 * deadline and its error says what it waited for (and which frames were queued).
 */
import { deadline } from "./_deadline.ts";

/** Default deadline of one socket wait (open, a frame, close), ms. */
export const SOCKET_WAIT_MS = 10_000;

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

/**
 * Resolves when `socket` opens, rejects when it fails to (`error` or `close` first) or
 * after `timeoutMs`. Listen before anything can have happened: right after `new`.
 */
export function opened(
  socket: WebSocket,
  timeoutMs = SOCKET_WAIT_MS,
  what = `${socket.url} to open`,
): Promise<void> {
  if (socket.readyState === WebSocket.OPEN) return Promise.resolve();
  const done = Promise.withResolvers<void>();
  const onOpen = () => done.resolve();
  const onFail = () => done.reject(new Error(`Cannot open ${socket.url}: refused or failed`));
  socket.addEventListener("open", onOpen);
  socket.addEventListener("error", onFail);
  socket.addEventListener("close", onFail);
  return deadline(done.promise, timeoutMs, what).finally(() => {
    socket.removeEventListener("open", onOpen);
    socket.removeEventListener("error", onFail);
    socket.removeEventListener("close", onFail);
  });
}

/** Whether `socket` opens (`"open"`) or is refused (`"refused"`), within `timeoutMs`. */
export async function openOrRefused(
  socket: WebSocket,
  timeoutMs = SOCKET_WAIT_MS,
): Promise<"open" | "refused"> {
  try {
    await opened(socket, timeoutMs, `${socket.url} to open or be refused`);
    return "open";
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("Cannot open")) return "refused";
    throw err;
  }
}

/**
 * The close event of `socket`, within `timeoutMs`. Call it before the close can happen
 * (it listens from now on), or once the socket is already closed (resolves at once with
 * a synthetic event carrying no code).
 */
export function closeOf(
  socket: WebSocket,
  timeoutMs = SOCKET_WAIT_MS,
  what = `${socket.url} to close`,
): Promise<CloseEvent> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(new CloseEvent("close"));
  const done = Promise.withResolvers<CloseEvent>();
  const onClose = (e: CloseEvent) => done.resolve(e);
  socket.addEventListener("close", onClose);
  return deadline(done.promise, timeoutMs, what).finally(() =>
    socket.removeEventListener("close", onClose)
  );
}

/** The next `message` event of `socket`, within `timeoutMs`. */
export function messageOf(
  socket: WebSocket,
  timeoutMs = SOCKET_WAIT_MS,
  what = `a message on ${socket.url}`,
): Promise<MessageEvent> {
  const done = Promise.withResolvers<MessageEvent>();
  const onMessage = (e: MessageEvent) => done.resolve(e);
  socket.addEventListener("message", onMessage);
  return deadline(done.promise, timeoutMs, what).finally(() =>
    socket.removeEventListener("message", onMessage)
  );
}

type Frame = Record<string, unknown>;

/** A connected socket with a queue of decoded frames to await in order. */
export interface TestSocket {
  socket: WebSocket;
  /**
   * Resolves with the next frame matching `filter` (frames before it are consumed).
   * Fails after `timeoutMs` (default {@linkcode SOCKET_WAIT_MS}) naming `what` (default:
   * the filter's source) and listing the frames still queued.
   */
  next(filter?: (frame: Frame) => boolean, timeoutMs?: number, what?: string): Promise<Frame>;
  /** Like `next`, but takes only the matching frame and leaves the others queued. */
  take(filter: (frame: Frame) => boolean, timeoutMs?: number, what?: string): Promise<Frame>;
  send(message: unknown): void;
  /** The close event (the socket was closed by either side), within `timeoutMs`. */
  closed(timeoutMs?: number): Promise<CloseEvent>;
  /** Closes (if still open) and waits for the close, within `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

/** Opens a WebSocket and waits (bounded) for it to be open. */
export async function openSocket(
  url: string,
  options?: {
    protocols?: string[];
    headers?: Record<string, string>;
    /** Answer server pings (default true); false to play a dead peer. */
    autoPong?: boolean;
    /** How long to wait for the open, ms. Default {@linkcode SOCKET_WAIT_MS}. */
    timeoutMs?: number;
  },
): Promise<TestSocket> {
  const socket = denoWebSocket(url, options);
  const queue: Frame[] = [];
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
  let closeEvent: CloseEvent | undefined;
  const closedOnce = new Promise<CloseEvent>((resolve) =>
    socket.addEventListener("close", (e) => {
      closeEvent = e;
      resolve(e);
      wake?.();
    })
  );
  try {
    await opened(socket, options?.timeoutMs ?? SOCKET_WAIT_MS);
  } catch (err) {
    socket.close();
    throw err;
  }
  /** Waits for a frame matching `filter`; `pick(index)` removes what the caller consumes. */
  async function wait(
    filter: (frame: Frame) => boolean,
    timeoutMs: number,
    what: string,
    pick: (index: number) => Frame,
  ): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex(filter);
      if (i >= 0) return pick(i);
      const left = end - Date.now();
      if (left <= 0 || closeEvent) {
        const why = closeEvent
          ? `Cannot wait for ${what}: the socket closed (${closeEvent.code})`
          : `Timed out after ${timeoutMs} ms waiting for ${what}`;
        throw new Error(`${why}; queued: ${JSON.stringify(queue).slice(0, 2_000)}`);
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
  const describe = (filter: (frame: Frame) => boolean) =>
    `a frame matching ${String(filter).replace(/\s+/g, " ").slice(0, 200)}`;
  return {
    socket,
    next: (filter = () => true, timeoutMs = SOCKET_WAIT_MS, what = describe(filter)) =>
      wait(filter, timeoutMs, what, (i) => queue.splice(0, i + 1).at(-1)!),
    take: (filter, timeoutMs = SOCKET_WAIT_MS, what = describe(filter)) =>
      wait(filter, timeoutMs, what, (i) => queue.splice(i, 1)[0]),
    send(message: unknown) {
      socket.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    closed: (timeoutMs = SOCKET_WAIT_MS) => deadline(closedOnce, timeoutMs, `${url} to close`),
    async close(timeoutMs = SOCKET_WAIT_MS) {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await deadline(closedOnce, timeoutMs, `${url} to close`);
    },
  };
}
