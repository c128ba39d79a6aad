/** Message middlewares shipped with the gateway (see {@linkcode Hub.use}). */
import type { Logger } from "../app/log.ts";
import type { Middleware } from "./hub.ts";

/**
 * Logs every accepted client message at debug level: connection, user, type, channel
 * and id. Never the payload, never a token.
 */
export function logMessages(log: Logger): Middleware {
  return function logMessage(ctx, next) {
    const m = ctx.message;
    log.debug("message", {
      conn: ctx.conn.id,
      user: ctx.conn.principal.userId,
      type: m.type,
      ...("channel" in m ? { channel: m.channel } : {}),
      ...(m.id ? { id: m.id } : {}),
    });
    return next();
  };
}
