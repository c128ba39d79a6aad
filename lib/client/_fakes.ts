/** Test doubles for the client: a scriptable socket, a manual clock, a storage, a setup. */
import { decode, encode } from "@msgpack/msgpack";
import { RealtimeClient } from "./client.ts";
import type {
  ClientOptions,
  OutboxStorage,
  PublishSettlement,
  StateChange,
  Timers,
  WebSocketLike,
} from "./types.ts";

/**
 * A socket the test drives: `open()`, `message()` (JSON text), `binaryMessage()`
 * (MessagePack), `serverClose()`. Echoes the first `realtime.*` subprotocol offered,
 * as the gateway does.
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  /** Every frame sent, decoded (JSON text and MessagePack binary alike). */
  sent: Record<string, unknown>[] = [];
  /** Every frame sent, as it went on the wire. */
  frames: (string | Uint8Array)[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  readonly protocol: string;
  binaryType: "blob" | "arraybuffer" = "blob";
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[] = [],
    readonly token?: string,
  ) {
    this.protocol = protocols.find((p) => p.startsWith("realtime.")) ?? "";
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error("Cannot send: socket not open");
    this.frames.push(data);
    this.sent.push(
      (typeof data === "string" ? JSON.parse(data) : decode(data)) as Record<string, unknown>,
    );
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  /** Delivers `data` as a JSON text frame. */
  message(data: unknown): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(data) }));
  }
  /** Delivers `data` as a MessagePack binary frame (an `ArrayBuffer`, as with `binaryType`). */
  binaryMessage(data: unknown): void {
    const bytes = encode(data);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this.onmessage?.(new MessageEvent("message", { data: buffer }));
  }
  serverClose(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }
  /** The frames of one type sent so far. */
  ofType(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
}

/** Timers driven by `advance(ms)`. */
export class ManualTimers implements Timers {
  #now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Pending timer count. */
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= target)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = target;
  }
}

/** `localStorage` in a Map; `failing` makes every call throw (storage disabled). */
export class FakeStorage implements OutboxStorage {
  items = new Map<string, string>();
  failing = false;

  getItem(key: string): string | null {
    if (this.failing) throw new Error("Cannot use storage: disabled");
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failing) throw new Error("Cannot use storage: disabled");
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    if (this.failing) throw new Error("Cannot use storage: disabled");
    this.items.delete(key);
  }
}

/** Lets pending promise callbacks and module loads run (one macrotask turn, no delay). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A client over fake sockets and manual timers, with its events recorded. */
export function fakeClient(options: Partial<ClientOptions> = {}) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const client = new RealtimeClient({
    url: "ws://test/api/ws",
    createSocket: (url, token, protocols) => {
      const s = new FakeSocket(url, protocols, token);
      sockets.push(s);
      return s;
    },
    timers,
    random: () => 0.5,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 1_000,
    ...options,
  });
  const changes: StateChange[] = [];
  const settled: PublishSettlement[] = [];
  const failed: { code: string; id: string; channel: string }[] = [];
  client.onStateChange((c) => changes.push(c));
  client.onPublishSettled((s) => settled.push(s));
  client.onPublishFailed((e) => failed.push({ code: e.code, id: e.id, channel: e.channel }));
  /** The socket made last. */
  const last = () => sockets[sockets.length - 1];
  /**
   * Opens the last socket and sends `connected` (optionally with the user's `expiresAt`).
   * Its heartbeat interval is an hour, so tests may move the clock without a dead link.
   */
  const establish = (expiresAt: number | null = null) => {
    last().open();
    last().message({
      v: 1,
      type: "connected",
      data: {
        session: "s",
        server: "x",
        user: { id: "u1", name: "demo", anonymous: false, expiresAt },
        codec: "json",
        heartbeat: { intervalMs: 3_600_000, timeoutMs: 8_000 },
        limits: {
          maxFrameBytes: 65_536,
          maxPublishBytes: 16_384,
          maxSubscriptions: 128,
          messagesPerSecond: 50,
          messageBurst: 100,
        },
      },
    });
  };
  return { client, sockets, timers, changes, settled, failed, last, establish };
}
