import { useSignal } from "@preact/signals";
import { publish, useChannel, useConnection } from "../lib/client/signals.ts";

/** A lobby message as published on `presence:lobby`. */
interface LobbyMessage {
  text: string;
  name: string;
  /** The sender's client-side id, to match an optimistic entry with its echo. */
  nonce: string;
}

interface Pending {
  nonce: string;
  text: string;
  state: "sending" | "failed";
}

const CHANNEL = "presence:lobby";

/**
 * The lobby: messages between signed-in users. Sending shows the message at once
 * (optimistic), keeps it through disconnects (the SDK's offline queue) and marks it failed
 * — never silently dropped — when it could not be delivered.
 */
export default function Lobby({ name }: { name: string }) {
  const channel = useChannel<LobbyMessage>(CHANNEL, 50);
  const conn = useConnection();
  const pending = useSignal<Pending[]>([]);
  const draft = useSignal("");
  const delivered = new Set(channel.messages.value.map((m) => m.nonce));
  const waiting = pending.value.filter((p) => !delivered.has(p.nonce));

  function send(e: Event) {
    e.preventDefault();
    const text = draft.value.trim();
    if (!text) return;
    draft.value = "";
    // crypto.randomUUID exists on https and localhost only.
    const nonce = crypto.randomUUID?.() ??
      `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    publish<LobbyMessage>(CHANNEL, { text, name, nonce }, {
      apply: () => pending.value = [...pending.value, { nonce, text, state: "sending" }],
      rollback: () =>
        pending.value = pending.value.map((p) => p.nonce === nonce ? { ...p, state: "failed" } : p),
    }).catch(() => {/* shown as failed through rollback and the failure notice */});
  }

  return (
    <section class="lobby" aria-label="Lobby">
      <h2>Lobby</h2>
      {channel.status.value === "error" && <p class="notice">{channel.error.value}</p>}
      {channel.status.value === "reset" && (
        <p class="muted">Some earlier messages could not be recovered after the reconnect.</p>
      )}
      <ol class="lobby-messages" data-testid="lobby-messages">
        {channel.messages.value.map((m) => (
          <li key={m.nonce}>
            <strong>{m.name}</strong> {m.text}
          </li>
        ))}
        {waiting.map((p) => (
          <li key={p.nonce} class={p.state} data-state={p.state}>
            <strong>{name}</strong> {p.text}{" "}
            <small>{p.state === "sending" ? "sending…" : "not delivered"}</small>
          </li>
        ))}
      </ol>
      {conn && conn.failures.value.length > 0 && (
        <p class="notice" role="alert" data-testid="publish-failed">
          {conn.failures.value.length === 1
            ? "A message could not be delivered"
            : `${conn.failures.value.length} messages could not be delivered`}:{" "}
          {conn.failures.value.at(-1)!.message}
        </p>
      )}
      <form onSubmit={send} class="lobby-form">
        <input
          name="text"
          aria-label="Message"
          placeholder="Say something"
          maxLength={500}
          value={draft.value}
          onInput={(e) => draft.value = (e.target as HTMLInputElement).value}
        />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}
