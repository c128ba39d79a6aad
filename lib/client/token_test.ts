import { deepStrictEqual, equal } from "node:assert/strict";
import { fakeClient, settle } from "./_fakes.ts";

/** A `getToken` handing out t1, t2, … and counting its calls. */
function tokenSource() {
  const source = {
    calls: 0,
    fail: false,
    getToken: () => {
      source.calls++;
      return source.fail
        ? Promise.reject(new Error("Cannot get a token: offline"))
        : Promise.resolve(`t${source.calls}`);
    },
  };
  return source;
}

const MIN = 60_000;

Deno.test("[token] the token goes to createSocket; expiring → getToken → refresh → refreshed", async () => {
  const tokens = tokenSource();
  const { client, sockets, last, establish, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  equal(sockets.length, 0, "no socket before the token");
  await settle();
  equal(last().token, "t1");
  establish(15 * MIN);
  last().message({ v: 1, type: "expiring", data: { expiresAt: 15 * MIN } });
  await settle();
  equal(tokens.calls, 2);
  deepStrictEqual(last().ofType("refresh"), [{ v: 1, type: "refresh", id: "r1", token: "t2" }]);
  last().message({ v: 1, type: "refreshed", id: "r1", data: { expiresAt: 30 * MIN } });
  // The old expiry's proactive refresh is gone; the new one is due 30 s before 30 min.
  timers.advance(30 * MIN - 30_000 - 1);
  await settle();
  equal(tokens.calls, 2);
  timers.advance(1);
  await settle();
  equal(tokens.calls, 3);
  deepStrictEqual(last().ofType("refresh").at(-1), {
    v: 1,
    type: "refresh",
    id: "r2",
    token: "t3",
  });
  equal(sockets.length, 1, "refreshed in band, no reconnect");
});

Deno.test("[token] proactive refresh 30 s before connected.user.expiresAt", async () => {
  const tokens = tokenSource();
  const { client, last, establish, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  establish(120_000);
  timers.advance(89_999);
  await settle();
  equal(last().ofType("refresh").length, 0);
  timers.advance(1);
  await settle();
  deepStrictEqual(last().ofType("refresh").map((m) => m.token), ["t2"]);
  last().message({ v: 1, type: "expiring", data: { expiresAt: 120_000 } });
  await settle();
  equal(tokens.calls, 2, "one refresh under way at a time");
});

Deno.test("[token] bad_token: getToken is retried once, 5 s later", async () => {
  const tokens = tokenSource();
  const { client, last, establish, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  establish(10 * MIN);
  last().message({ v: 1, type: "expiring", data: { expiresAt: 10 * MIN } });
  await settle();
  const badToken = (id: unknown) => ({
    v: 1,
    type: "error",
    id,
    data: { code: "bad_token", message: "Cannot refresh: expired", temporary: false },
  });
  last().message(badToken(last().ofType("refresh")[0].id));
  timers.advance(4_999);
  await settle();
  equal(tokens.calls, 2);
  timers.advance(1);
  await settle();
  equal(tokens.calls, 3);
  const refreshes = last().ofType("refresh");
  deepStrictEqual(refreshes.map((m) => m.token), ["t2", "t3"]);
  last().message(badToken(refreshes[1].id));
  timers.advance(20_000);
  await settle();
  equal(tokens.calls, 3, "only once");
  equal(client.state, "connected");
});

Deno.test("[token] close 4003: a new token is fetched before reconnecting; 1006 reuses it", async () => {
  const tokens = tokenSource();
  const { client, sockets, establish, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  establish(15 * MIN);
  sockets[0].serverClose(1006);
  timers.advance(1_000);
  await settle();
  equal(sockets[1].token, "t1", "a dropped link reuses the valid token");
  equal(tokens.calls, 1);
  establish(15 * MIN);
  sockets[1].serverClose(4003, "credential expired");
  equal(client.state, "reconnecting");
  timers.advance(1_000);
  await settle();
  equal(tokens.calls, 2);
  equal(sockets[2].token, "t2");
});

Deno.test("[token] a disconnect frame saying 4003 also forces a new token (1001 close)", async () => {
  const tokens = tokenSource();
  const { client, sockets, last, establish, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  establish(15 * MIN);
  last().message({
    v: 1,
    type: "disconnect",
    data: { code: 4003, reason: "credential expired", reconnect: true },
  });
  last().serverClose(1001);
  timers.advance(1_000);
  await settle();
  equal(sockets[1].token, "t2");
});

Deno.test("[token] an attempt refused before `connected` fetches a new token next time", async () => {
  const tokens = tokenSource();
  const { client, sockets, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  sockets[0].serverClose(1006); // e.g. 401 at the handshake: the browser only says 1006
  timers.advance(1_000);
  await settle();
  equal(sockets[1].token, "t2");
});

Deno.test("[token] a failing getToken is retried with backoff", async () => {
  const tokens = tokenSource();
  tokens.fail = true;
  const { client, sockets, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  await settle();
  equal(client.state, "reconnecting");
  equal(sockets.length, 0);
  tokens.fail = false;
  timers.advance(1_000);
  await settle();
  equal(sockets.length, 1);
  equal(sockets[0].token, "t2");
});

Deno.test("[token] disconnect() while fetching: no socket is opened", async () => {
  const tokens = tokenSource();
  const { client, sockets, timers } = fakeClient({ getToken: tokens.getToken });
  client.connect();
  client.disconnect();
  await settle();
  equal(sockets.length, 0);
  equal(client.state, "disconnected");
  equal(timers.pending, 0);
});

Deno.test("[token] without getToken, expiring is ignored and no token is passed", async () => {
  const { client, last, establish } = fakeClient();
  client.connect();
  equal(last().token, undefined);
  establish(60_000);
  last().message({ v: 1, type: "expiring", data: { expiresAt: 60_000 } });
  await settle();
  equal(last().ofType("refresh").length, 0);
});
