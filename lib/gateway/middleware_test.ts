import { deepStrictEqual } from "node:assert/strict";
import { createLogger } from "../app/log.ts";
import { testHub, user } from "./_test_util.ts";
import { logMessages } from "./middleware.ts";

Deno.test("[middleware] logMessages logs type, channel and id, never payloads or tokens", () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", {}, (_level, line) => lines.push(JSON.parse(line)));
  const { hub, connect } = testHub();
  hub.use(logMessages(log));
  const c = connect(user("alice"));
  c.send({ type: "publish", id: "m1", channel: "room:r", data: { secret: "s3cr3t" } });
  c.send({ type: "refresh", id: "r1", token: "eyJ.token.value" });
  const logged = lines.map(({ ts: _ts, ...rest }) => rest);
  deepStrictEqual(logged, [
    {
      level: "debug",
      msg: "message",
      conn: c.conn.id,
      user: "alice",
      type: "publish",
      channel: "room:r",
      id: "m1",
    },
    { level: "debug", msg: "message", conn: c.conn.id, user: "alice", type: "refresh", id: "r1" },
  ]);
  const text = JSON.stringify(lines);
  deepStrictEqual([text.includes("s3cr3t"), text.includes("eyJ.token")], [false, false]);
});
