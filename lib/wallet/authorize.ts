/**
 * Who may read `wallet:{address}`: a signed-in user who watches the address. The
 * namespace's policy admits any signed-in user (lib/app/channels.ts); this message
 * middleware (registered on the hub before dispatch) adds the watch check, which needs a
 * KV read and so cannot be part of the synchronous policy. It applies to `subscribe` and
 * `history`; anonymous connections pass through to the policy, which refuses them.
 *
 * A user who stops watching keeps a subscription already made until it ends (the data is
 * public chain data); a new one is refused.
 *
 * @module
 */
import type { Middleware } from "../gateway/hub.ts";
import { protocolError } from "../protocol/codec.ts";
import { ErrorCode } from "../protocol/codes.ts";
import { parseAddress } from "./address.ts";
import { isWatching } from "./watch.ts";

const PREFIX = "wallet:";

/** The middleware (see the module's doc). */
export function requireWatcher(kv: Deno.Kv): Middleware {
  return function requireWatcher(ctx, next) {
    const m = ctx.message;
    // Everything else passes synchronously, as if this middleware were not there.
    if (
      (m.type !== "subscribe" && m.type !== "history") || !m.channel.startsWith(PREFIX) ||
      ctx.conn.principal.anonymous
    ) return next();
    // A malformed name is the policy's to refuse (unknown_channel), not a permission matter.
    const name = m.channel.slice(PREFIX.length);
    const parsed = parseAddress(name);
    if (!parsed.ok || parsed.address !== name) return next();
    return checkWatcher(kv, ctx, next, name);
  };
}

async function checkWatcher(
  kv: Deno.Kv,
  ctx: Parameters<Middleware>[0],
  next: () => void | Promise<void>,
  name: string,
): Promise<void> {
  const m = ctx.message as Extract<typeof ctx.message, { channel: string }>;
  let watching: boolean | null;
  try {
    watching = await isWatching(kv, ctx.conn.principal.userId, name);
  } catch {
    watching = null;
  }
  if (watching) return next();
  const error = watching === null
    ? protocolError(ErrorCode.Internal, `Cannot subscribe to ${m.channel}: try again`, m.id)
    : protocolError(
      ErrorCode.Forbidden,
      `Cannot subscribe to ${m.channel}: watch the address first (POST /api/wallet/watch)`,
      m.id,
    );
  const { id, ...data } = error;
  ctx.hub.sendToConnection(ctx.conn.id, { v: 1, type: "error", ...(id ? { id } : {}), data });
}
