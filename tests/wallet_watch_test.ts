/**
 * The watch API and the wallet routes through the real routes, in process, with no chain
 * configured: per user, signed in, same origin, validated (EIP-55 named), bounded.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { serveApp } from "./_app.ts";
import { signUp, watch } from "./_wallet.ts";

const GOOD = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return (await res.json()).error;
}

Deno.test("[wallet api] watch, list, unwatch: signed in, same origin, EIP-55, ≤ 20, bounded", async (t) => {
  await using app = await serveApp();
  const cookie = await signUp(app, "ada");
  const other = await signUp(app, "bob");

  await t.step("signed out: 401", async () => {
    equal((await app.request("/api/wallet/watch")).status, 401);
    const res = await app.request("/api/wallet/watch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ address: GOOD }),
    });
    equal(res.status, 401);
    await res.body?.cancel();
    equal((await app.request(`/api/wallet/${GOOD}`)).status, 401);
  });

  await t.step("bad addresses and labels: 400 naming the problem; nothing stored", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ address: GOOD.replace("C51812", "c51812") }, "invalid_address", /Wrong checksum/],
      [{ address: GOOD.slice(0, 30) }, "invalid_address", /has 28 hex digits, expected 40/],
      [{ address: "vitalik.eth" }, "invalid_address", /must start with 0x/],
      [{}, "invalid_address", /must be a string/],
      [{ address: GOOD, label: "x".repeat(41) }, "invalid_label", /more than 40 characters/],
      [{ address: GOOD, label: "a\u202eb" }, "invalid_label", /text-direction/],
      ["[1]", "bad_request", /Expected a JSON object/],
      ["not json", "bad_request", /not JSON/],
    ];
    for (const [body, code, message] of cases) {
      const res = await watch(app, cookie, body);
      equal(res.status, 400, JSON.stringify(body));
      const error = await errorOf(res);
      equal(error.code, code);
      match(error.message, message);
    }
    const big = await watch(app, cookie, { address: GOOD, label: "x".repeat(2_000) });
    equal(big.status, 413);
    await big.body?.cancel();
    deepEqual(await (await app.request("/api/wallet/watch", { headers: { cookie } })).json(), {
      addresses: [],
      max: 20,
    });
  });

  await t.step("watched per user; lower case is checksummed; again updates the label", async () => {
    const res = await watch(app, cookie, { address: GOOD.toLowerCase(), label: "hot" });
    equal(res.status, 201);
    const created = await res.json();
    equal(created.address, GOOD);
    equal(created.label, "hot");
    const again = await watch(app, cookie, { address: GOOD, label: "cold" });
    equal(again.status, 200);
    equal((await again.json()).label, "cold");
    const list = await (await app.request("/api/wallet/watch", { headers: { cookie } })).json();
    deepEqual(list.addresses.map((a: { address: string; label: string }) => [a.address, a.label]), [
      [GOOD, "cold"],
    ]);
    const theirs = await (await app.request("/api/wallet/watch", { headers: { cookie: other } }))
      .json();
    deepEqual(theirs.addresses, []);
  });

  await t.step("a 21st address: 409", async () => {
    for (let i = 1; i < 20; i++) {
      const res = await watch(app, cookie, { address: `0x${i.toString(16).padStart(40, "0")}` });
      equal(res.status, 201);
      await res.body?.cancel();
    }
    const res = await watch(app, cookie, { address: `0x${"f".repeat(40)}` });
    equal(res.status, 409);
    equal((await errorOf(res)).code, "too_many");
  });

  await t.step("cross-origin changes: 403, nothing changed", async () => {
    const res = await app.request("/api/wallet/watch", {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: "https://evil.example" },
      body: JSON.stringify({ address: `0x${"e".repeat(40)}` }),
    });
    equal(res.status, 403);
    await res.body?.cancel();
    const del = await app.request(`/api/wallet/watch/${GOOD}`, {
      method: "DELETE",
      headers: { cookie, origin: "https://evil.example" },
    });
    equal(del.status, 403);
    await del.body?.cancel();
  });

  await t.step("unwatch: 204, then 404; a bad address 400", async () => {
    const del = await app.request(`/api/wallet/watch/${GOOD.toLowerCase()}`, {
      method: "DELETE",
      headers: { cookie },
    });
    equal(del.status, 204);
    const again = await app.request(`/api/wallet/watch/${GOOD}`, {
      method: "DELETE",
      headers: { cookie },
    });
    equal(again.status, 404);
    await again.body?.cancel();
    const bad = await app.request(`/api/wallet/watch/0x12`, {
      method: "DELETE",
      headers: { cookie },
    });
    equal(bad.status, 400);
    equal((await errorOf(bad)).code, "invalid_address");
  });

  await t.step(
    "no chain: /api/chain says off; the wallet view 503; a bad address still 400",
    async () => {
      const status = await (await app.request("/api/chain")).json();
      equal(status.rpc, "off");
      equal(status.chainId, null);
      const view = await app.request(`/api/wallet/${GOOD}`, { headers: { cookie } });
      equal(view.status, 503);
      equal((await errorOf(view)).code, "chain_off");
      const bad = await app.request(`/api/wallet/${GOOD.replace("C51812", "c51812")}`, {
        headers: { cookie },
      });
      equal(bad.status, 400);
      match((await errorOf(bad)).message, /Wrong checksum/);
      const page = await app.request(`/api/wallet/${GOOD}?limit=1000`, { headers: { cookie } });
      equal(page.status, 400);
      await page.body?.cancel();
    },
  );
});
