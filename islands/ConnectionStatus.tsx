import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useConnection } from "../lib/client/signals.ts";

/** What the indicator shows for each connection state. */
const LABELS = {
  disconnected: "offline",
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting",
  closed: "disconnected",
} as const;

/** The connection indicator: connected / reconnecting (attempt, next try) / offline. */
export default function ConnectionStatus() {
  const conn = useConnection();
  const now = useSignal(Date.now());
  useEffect(() => {
    const timer = setInterval(() => now.value = Date.now(), 500);
    return () => clearInterval(timer);
  }, []);
  if (!conn) {
    return (
      <span class="conn" data-state="connecting">
        <span class="dot" aria-hidden="true"></span>
        <span role="status">connecting…</span>
      </span>
    );
  }
  const state = conn.offline.value && conn.state.value !== "connected"
    ? "offline"
    : conn.state.value;
  const label = state === "offline" ? "offline" : LABELS[state];
  const next = conn.nextRetryAt.value;
  const seconds = next === null ? 0 : Math.ceil((next - now.value) / 1000);
  const detail = state === "reconnecting"
    ? ` · attempt ${conn.attempt.value}, ${seconds > 0 ? `next try in ${seconds} s` : "trying now"}`
    : "";
  // Only the state is a live region: screen readers hear "reconnecting", "connected",
  // not every tick of the countdown or every new round-trip time.
  return (
    <span class="conn" data-state={state}>
      <span class="dot" aria-hidden="true"></span>
      <span role="status" data-testid="conn-state">{label}</span>
      {detail && <small>{detail}</small>}
      {state === "connected" && conn.rttMs.value !== null && (
        <small data-testid="rtt">· {Math.round(conn.rttMs.value)} ms</small>
      )}
    </span>
  );
}
