import { useSignal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import {
  type LogEntry,
  publish,
  useChannelLog,
  useConnection,
  usePresence,
} from "../lib/client/signals.ts";
import { type LobbyMessage, newNonce, parseLobbyMessage } from "../lib/lobby/message.ts";

/** A message of ours that has no place in the channel yet. */
interface Pending {
  nonce: string;
  text: string;
  at: number;
  state: "sending" | "failed";
  /** Why it failed, in words for people. */
  reason?: string;
}

const CHANNEL = "presence:lobby";
const LIMIT = 50;
/** How close to the bottom (px) still counts as "reading the newest messages". */
const STICKY_PX = 48;

/** Why a publish failed, said for a person rather than a developer. */
function reasonFor(code: string): string {
  switch (code) {
    case "queue_full":
      return "Too many messages are waiting to be sent";
    case "payload_too_large":
    case "frame_too_large":
      return "The message is too long";
    case "rate_limited":
      return "You are sending too fast";
    case "forbidden":
    case "unauthorized":
      return "You may not post here; try signing in again";
    case "ack_timeout":
      return "The server did not confirm it";
    default:
      return "It could not be delivered";
  }
}

function timeOf(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * The lobby: messages between signed-in users. It opens with the messages the channel
 * keeps, shows a sent message at once (optimistic) and matches it with its place in the
 * channel by its nonce and by the offset of its acknowledgement — whatever arrives in
 * between. What was typed is never lost: a refused message stays, marked, with a retry.
 */
export default function Lobby({ name, userId }: { name: string; userId: string }) {
  const log = useChannelLog<LobbyMessage>(CHANNEL, { limit: LIMIT, parse: parseLobbyMessage });
  const presence = usePresence(CHANNEL);
  const conn = useConnection();
  const pending = useSignal<Pending[]>([]);
  const draft = useSignal("");
  const notice = useSignal<string | null>(null);
  const unread = useSignal(0);
  const list = useRef<HTMLOListElement>(null);
  const sticky = useRef(true);

  // Our own messages that reached the channel are no longer pending. Retired for good:
  // the log keeps only the newest messages, and an old one scrolling out of it must not
  // bring its pending twin back.
  useEffect(() => {
    const mine = new Set<string>();
    for (const e of log.entries.value) if (e.from === userId) mine.add(e.data.nonce);
    if (pending.value.some((p) => mine.has(p.nonce))) {
      pending.value = pending.value.filter((p) => !mine.has(p.nonce));
    }
  }, [log.entries.value]);
  const waiting = pending.value;

  const count = log.entries.value.length + waiting.length;
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (sticky.current) {
      el.scrollTop = el.scrollHeight;
      unread.value = 0;
    } else {
      unread.value++;
    }
  }, [count]);

  function onScroll() {
    const el = list.current;
    if (!el) return;
    sticky.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICKY_PX;
    if (sticky.current) unread.value = 0;
  }

  function jumpToNewest() {
    const el = list.current;
    if (!el) return;
    sticky.current = true;
    el.scrollTop = el.scrollHeight;
    unread.value = 0;
  }

  function setPending(nonce: string, change: Partial<Pending> | null) {
    pending.value = change === null
      ? pending.value.filter((p) => p.nonce !== nonce)
      : pending.value.map((p) => p.nonce === nonce ? { ...p, ...change } : p);
  }

  function post(text: string, nonce: string) {
    const message: LobbyMessage = { text, nonce };
    publish<LobbyMessage>(CHANNEL, message, {
      apply: () => {
        const entry: Pending = { nonce, text, at: Date.now(), state: "sending" };
        pending.value = [...pending.value.filter((p) => p.nonce !== nonce), entry];
      },
      rollback: () => {},
    }).then((result) => {
      // The ack says where it was committed: it belongs there now, even if the echo is
      // still on its way (or was missed while reconnecting).
      setPending(nonce, null);
      if (result.offset !== undefined) {
        log.add({
          data: message,
          offset: result.offset,
          ts: Date.now(),
          from: userId,
          fromName: name,
        });
      }
    }, (err: { code?: string }) => {
      const code = err.code ?? "";
      if (code === "queue_full") {
        // Never entered the queue: give the text back instead of showing a ghost.
        setPending(nonce, null);
        if (!draft.value) draft.value = text;
        notice.value = conn?.state.value === "connected"
          ? "Too many messages are waiting to be sent. Your message is still in the box; send it again in a moment."
          : "You are offline and many messages are already waiting to be sent. Your message is still in the box; send it once you are back online.";
        return;
      }
      setPending(nonce, { state: "failed", reason: reasonFor(code) });
    });
  }

  function send(e: Event) {
    e.preventDefault();
    const text = draft.value.trim();
    if (!text) return;
    draft.value = "";
    notice.value = null;
    sticky.current = true;
    post(text, newNonce());
  }

  function retry(p: Pending) {
    setPending(p.nonce, null);
    post(p.text, p.nonce);
  }

  const offline = conn !== null && conn.state.value !== "connected";
  const members = presence.members.value;

  return (
    <section class="lobby" aria-labelledby="lobby-title">
      <div class="lobby-head">
        <h2 id="lobby-title">Lobby</h2>
        <p class="lobby-online" data-testid="lobby-online">
          <span class="dot" aria-hidden="true"></span>
          {presence.count.value} online
        </p>
      </div>
      <ul class="lobby-members" aria-label="Online now" data-testid="lobby-members">
        {members.map((m) => <li key={m.userId}>{m.name}</li>)}
      </ul>
      {log.error.value && <p class="notice">{log.error.value}</p>}
      <div class="lobby-scroll">
        <ol
          class="lobby-messages"
          data-testid="lobby-messages"
          ref={list}
          onScroll={onScroll}
          tabIndex={0}
          aria-label="Messages"
          aria-live="polite"
          aria-relevant="additions"
        >
          {log.status.value === "loading" && log.entries.value.length === 0 && (
            <li class="muted lobby-empty">Loading recent messages…</li>
          )}
          {log.status.value !== "loading" && count === 0 && (
            <li class="muted lobby-empty">No messages yet. Say hello!</li>
          )}
          {log.entries.value.map((e: LogEntry<LobbyMessage>) => (
            <li key={`o${e.offset}`} data-offset={e.offset} class={e.from === userId ? "own" : ""}>
              <span class="lobby-meta">
                <strong>{e.fromName ?? (e.from === userId ? name : "someone")}</strong>
                <time dateTime={new Date(e.ts).toISOString()}>{timeOf(e.ts)}</time>
              </span>
              <span class="lobby-text">{e.data.text}</span>
            </li>
          ))}
          {waiting.map((p) => (
            <li key={`n${p.nonce}`} class={`own ${p.state}`} data-state={p.state}>
              <span class="lobby-meta">
                <strong>{name}</strong>
                <time dateTime={new Date(p.at).toISOString()}>{timeOf(p.at)}</time>
              </span>
              <span class="lobby-text">{p.text}</span>
              {p.state === "sending"
                ? (
                  <small class="lobby-status">
                    {offline ? "waiting for connection…" : "sending…"}
                  </small>
                )
                : (
                  <small class="lobby-status">
                    Not delivered: {p.reason}.{" "}
                    <button type="button" class="link-button" onClick={() => retry(p)}>
                      Retry
                    </button>{" "}
                    <button
                      type="button"
                      class="link-button"
                      onClick={() => setPending(p.nonce, null)}
                    >
                      Discard
                    </button>
                  </small>
                )}
            </li>
          ))}
        </ol>
        {unread.value > 0 && (
          <button type="button" class="lobby-jump" onClick={jumpToNewest}>
            New messages ↓
          </button>
        )}
      </div>
      {notice.value && (
        <div class="notice lobby-notice" role="alert" data-testid="lobby-notice">
          <span>{notice.value}</span>
          <button
            type="button"
            class="link-button"
            aria-label="Dismiss"
            onClick={() => notice.value = null}
          >
            Dismiss
          </button>
        </div>
      )}
      <form onSubmit={send} class="lobby-form">
        <input
          name="text"
          aria-label="Message"
          placeholder={offline ? "Offline: messages are sent when you are back" : "Say something"}
          maxLength={500}
          autocomplete="off"
          value={draft.value}
          onInput={(e) => draft.value = (e.target as HTMLInputElement).value}
        />
        <button type="submit" class="button">Send</button>
      </form>
    </section>
  );
}
