/**
 * Access tokens of a client with `getToken`: which token the next connection attempt
 * uses, and in-band refresh (`refresh` → `refreshed`) on the server's `expiring` notice
 * and ahead of the known expiry.
 */
import type { ErrorData } from "../protocol/messages.ts";
import type { Timers } from "./types.ts";

/** Refresh this long before the token expires, ms. */
export const REFRESH_BEFORE_EXPIRY_MS = 30_000;
/** After a failed refresh, try once more after this long, ms. */
export const REFRESH_RETRY_MS = 5_000;
/** Never schedule a proactive refresh sooner than this (short-lived tokens), ms. */
const MIN_REFRESH_DELAY_MS = 1_000;

/** What the token keeper needs from the client. */
export interface TokenHost {
  timers: Timers;
  /** Sends a `refresh` frame on the current connection; false when there is none. */
  sendRefresh(id: string, token: string): boolean;
}

/** Tokens of one client. */
export class TokenKeeper {
  #getToken: () => Promise<string>;
  #host: TokenHost;
  #token: string | null = null;
  #expiresAt: number | null = null;
  /** The current token must not be used again (4003, or refused at the handshake). */
  #stale = false;
  /** The connection is up: in-band refresh is possible. */
  #live = false;
  /** Bumped when a connection ends: late results of its refresh are dropped. */
  #connection = 0;
  /** A refresh is under way (fetching a token, or waiting for `refreshed`). */
  #refreshing = false;
  #refresh: { id: string; token: string } | null = null;
  /** The one retry after a failed refresh was used. */
  #retried = false;
  #timer: unknown = null;
  #nextId = 0;

  constructor(getToken: () => Promise<string>, host: TokenHost) {
    this.#getToken = getToken;
    this.#host = host;
  }

  /** Whether the next connection attempt must fetch a token first. */
  needsFetch(): boolean {
    if (this.#token === null || this.#stale) return true;
    const expiresAt = this.#expiresAt;
    return expiresAt !== null && this.#host.timers.now() >= expiresAt - REFRESH_BEFORE_EXPIRY_MS;
  }

  /** The current token (null before the first fetch). */
  get current(): string | null {
    return this.#token;
  }

  /** The token for the next attempt: the current one, or a fresh one when needed. */
  async forAttempt(): Promise<string> {
    if (!this.needsFetch()) return this.#token!;
    const token = await this.#getToken();
    this.#token = token;
    this.#stale = false;
    this.#expiresAt = null; // known once the server says so in `connected`
    return token;
  }

  /** Never reuse the current token (close 4003, or an attempt that failed to connect). */
  markStale(): void {
    this.#stale = true;
  }

  /** The connection is up; `expiresAt` from `connected.data.user`. */
  connected(expiresAt: number | null): void {
    this.#live = true;
    this.#retried = false;
    this.#schedule(expiresAt);
  }

  /** The connection is gone: pending refreshes stop. */
  disconnected(): void {
    this.#live = false;
    this.#connection++;
    this.#refreshing = false;
    this.#refresh = null;
    this.#host.timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** The server's `expiring` notice. */
  expiring(expiresAt: number): void {
    this.#expiresAt = expiresAt;
    this.refresh();
  }

  /** Handles `refreshed`; false when `id` is not our refresh. */
  refreshed(id: string, expiresAt: number | null): boolean {
    if (this.#refresh?.id !== id) return false;
    this.#token = this.#refresh.token;
    this.#stale = false;
    this.#refresh = null;
    this.#refreshing = false;
    this.#retried = false;
    this.#schedule(expiresAt);
    return true;
  }

  /** Handles an `error` answering our refresh (`bad_token`…); false when it is not ours. */
  error(id: string, _error: ErrorData): boolean {
    if (this.#refresh?.id !== id) return false;
    this.#refresh = null;
    this.#refreshing = false;
    this.#retryOnce();
    return true;
  }

  /** Fetches a token and sends `refresh`, unless one is under way or there is no connection. */
  refresh(): void {
    if (!this.#live || this.#refreshing) return;
    this.#host.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#refreshing = true;
    const connection = this.#connection;
    Promise.resolve().then(() => this.#getToken()).then(
      (token) => {
        if (connection !== this.#connection) return;
        const id = `r${++this.#nextId}`;
        if (this.#host.sendRefresh(id, token)) this.#refresh = { id, token };
        else this.#refreshing = false;
      },
      () => {
        if (connection !== this.#connection) return;
        this.#refreshing = false;
        this.#retryOnce();
      },
    );
  }

  #retryOnce(): void {
    if (this.#retried || !this.#live) return; // given up: a 4003 close brings a new token
    this.#retried = true;
    this.#timer = this.#host.timers.setTimeout(() => {
      this.#timer = null;
      this.refresh();
    }, REFRESH_RETRY_MS);
  }

  #schedule(expiresAt: number | null): void {
    this.#expiresAt = expiresAt;
    this.#host.timers.clearTimeout(this.#timer);
    this.#timer = null;
    if (expiresAt === null || !this.#live) return;
    const left = expiresAt - this.#host.timers.now();
    // 30 s ahead; for tokens living less than a minute, halfway through what is left.
    const delay = Math.max(left - REFRESH_BEFORE_EXPIRY_MS, left / 2, MIN_REFRESH_DELAY_MS);
    this.#timer = this.#host.timers.setTimeout(() => {
      this.#timer = null;
      this.refresh();
    }, delay);
  }
}
