/**
 * Admission of a WebSocket upgrade, before any socket exists: upgrade rate limits,
 * connection caps, subprotocol negotiation, Origin and credentials. Every refusal is an
 * HTTP response with a JSON `{ error: { code, message } }` body (and `Retry-After` for
 * rate limits), so a client can tell why it was turned away.
 */
import type { Principal, UpgradeAuthenticator } from "../auth/types.ts";
import { type Codec, negotiateCodec } from "../protocol/codec.ts";
import type { Hub } from "./hub.ts";
import { KeyedBuckets, TokenBucket } from "./limits.ts";

/** An admitted upgrade: who, in which codec, and the subprotocol to echo. */
export interface Admitted {
  ok: true;
  principal: Principal;
  codec: Codec;
  protocol?: string;
  /** Whether frames may carry several messages (docs/PROTOCOL.md, "Batched frames"). */
  batch: boolean;
  ip: string;
}

/** A refused upgrade. */
export interface Refused {
  ok: false;
  response: Response;
}

/**
 * Counts a user's connections where they are capped: every isolate and process together
 * (lib/cluster/slots.ts). Without it, the hub's own count (this isolate) is the cap's.
 */
export interface UserSlots {
  /**
   * Reserves one connection of `userId` when fewer than `max` are open (or reserved)
   * cluster-wide, atomically; false when full. The reservation becomes the connection
   * when the hub opens it, and lapses when it never does.
   */
  reserve(userId: string, max: number): Promise<boolean>;
}

/** Options for {@linkcode createAdmission}. */
export interface AdmissionOptions {
  hub: Hub;
  auth: UpgradeAuthenticator;
  /** Cluster-wide per-user connection counts; default this hub's (one isolate). */
  slots?: UserSlots;
  now?: () => number;
}

/** Decides on upgrades; one per hub. */
export type Admission = (req: Request, ip: string) => Promise<Admitted | Refused>;

function refuse(status: number, code: string, message: string, retryAfterMs?: number): Refused {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (retryAfterMs !== undefined) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
  return {
    ok: false,
    response: new Response(JSON.stringify({ error: { code, message } }) + "\n", {
      status,
      headers,
    }),
  };
}

/** True when `req` asks for a WebSocket upgrade. */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Creates the admission check for `hub`. */
export function createAdmission(options: AdmissionOptions): Admission {
  const { hub, auth, slots } = options;
  const now = options.now ?? Date.now;
  const limits = hub.limits;
  const global = new TokenBucket(limits.upgradesPerSecond, limits.upgradesPerSecond * 2, now());
  const perIp = new KeyedBuckets(limits.upgradesPerSecondPerIp, limits.upgradesPerSecondPerIp * 2);

  return async function admit(req: Request, ip: string): Promise<Admitted | Refused> {
    const t = now();
    const refused = (reason: string, r: Refused) => {
      hub.metrics.upgradesRefused.inc({ reason });
      return r;
    };
    if (!isWebSocketUpgrade(req)) {
      return refused(
        "not_websocket",
        refuse(
          400,
          "not_websocket",
          "Expected a WebSocket upgrade: connect to /api/ws with a WebSocket client (see docs/PROTOCOL.md)",
        ),
      );
    }
    if (!global.take(t)) {
      hub.metrics.rateLimited.inc({ scope: "upgrades" });
      return refused(
        "busy",
        refuse(503, "busy", "Cannot accept connections this fast; retry shortly", global.waitMs(t)),
      );
    }
    const ipWait = perIp.take(ip, t);
    if (ipWait > 0) {
      hub.metrics.rateLimited.inc({ scope: "upgrades_per_ip" });
      return refused(
        "rate_limited",
        refuse(
          429,
          "rate_limited",
          `Cannot accept more than ${limits.upgradesPerSecondPerIp} connections per second from one address`,
          ipWait,
        ),
      );
    }
    if (hub.connectionsFromIp(ip) >= limits.maxConnectionsPerIp) {
      hub.metrics.rateLimited.inc({ scope: "connections_per_ip" });
      return refused(
        "too_many_connections",
        refuse(
          429,
          "too_many_connections",
          `Cannot open more than ${limits.maxConnectionsPerIp} connections from one address`,
          5_000,
        ),
      );
    }
    const negotiated = negotiateCodec(req.headers.get("sec-websocket-protocol"));
    if (!negotiated.ok) {
      return refused("bad_protocol", refuse(400, "bad_protocol", negotiated.message));
    }
    const authed = await auth.authenticateUpgrade(req);
    if (!authed.ok) return refused(authed.code, refuse(authed.status, authed.code, authed.message));
    const principal = authed.principal;
    const max = limits.maxConnectionsPerUser;
    if (
      !principal.anonymous &&
      !(slots
        ? await slots.reserve(principal.userId, max)
        : hub.connectionsOfUser(principal.userId) < max)
    ) {
      hub.metrics.rateLimited.inc({ scope: "connections_per_user" });
      return refused(
        "too_many_connections",
        refuse(
          429,
          "too_many_connections",
          `Cannot open more than ${limits.maxConnectionsPerUser} connections for one user`,
          5_000,
        ),
      );
    }
    return {
      ok: true,
      principal,
      codec: negotiated.codec,
      protocol: negotiated.protocol,
      batch: negotiated.batch,
      ip,
    };
  };
}
