import { deepEqual } from "node:assert/strict";
import { bearerFromRequest, offeredProtocols } from "./bearer.ts";

function req(headers: Record<string, string>): Request {
  return new Request("http://localhost/api/ws", { headers });
}

Deno.test("[auth] bearer: Authorization header", () => {
  deepEqual(bearerFromRequest(req({ authorization: "Bearer abc.def.ghi" })), {
    kind: "token",
    token: "abc.def.ghi",
    from: "header",
  });
  deepEqual(bearerFromRequest(req({ authorization: "bearer   x.y.z " })).kind, "token");
  for (const bad of ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "Token abc"]) {
    deepEqual(bearerFromRequest(req({ authorization: bad })).kind, "malformed", bad);
  }
});

Deno.test("[auth] bearer: Sec-WebSocket-Protocol entry for browsers", () => {
  const r = req({ "sec-websocket-protocol": "realtime.v1.json, bearer.abc.def.ghi" });
  deepEqual(bearerFromRequest(r), { kind: "token", token: "abc.def.ghi", from: "protocol" });
  deepEqual(offeredProtocols(r), ["realtime.v1.json"]);
  deepEqual(bearerFromRequest(req({ "sec-websocket-protocol": "realtime.v1.json" })), {
    kind: "none",
  });
  deepEqual(
    bearerFromRequest(req({ "sec-websocket-protocol": "bearer.a.b.c, bearer.d.e.f" })).kind,
    "malformed",
  );
  deepEqual(bearerFromRequest(req({ "sec-websocket-protocol": "bearer." })).kind, "malformed");
  deepEqual(bearerFromRequest(req({})), { kind: "none" });
  deepEqual(offeredProtocols(req({})), []);
});

Deno.test("[auth] bearer: the header wins over the subprotocol", () => {
  const r = req({
    authorization: "Bearer from.header.x",
    "sec-websocket-protocol": "bearer.p.q.r",
  });
  deepEqual(bearerFromRequest(r), { kind: "token", token: "from.header.x", from: "header" });
});
