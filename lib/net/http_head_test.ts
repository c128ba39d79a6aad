import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { isUpgradeHead, parseHead, readHead, requestOf } from "./http_head.ts";
import { acceptKey, handshakeProblem } from "./ws_handshake.ts";

const enc = new TextEncoder();

/** A fake connection that returns `chunks` one per read, then EOF. */
function chunks(...parts: string[]) {
  const queue = parts.map((p) => enc.encode(p));
  return {
    read(buf: Uint8Array): Promise<number | null> {
      const next = queue.shift();
      if (!next) return Promise.resolve(null);
      const n = Math.min(buf.length, next.length);
      buf.set(next.subarray(0, n));
      if (n < next.length) queue.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

const UPGRADE = "GET /api/ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\n" +
  "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://127.0.0.1:8000\r\n\r\n";

Deno.test("[http head] a head arriving in pieces, with the bytes after it kept", async () => {
  const result = await readHead(chunks("GET / HT", "TP/1.1\r\nHost: a\r", "\n\r\nBODY"), 1_000);
  ok(result.ok);
  deepStrictEqual(result.head, {
    method: "GET",
    target: "/",
    version: "HTTP/1.1",
    headers: [["host", "a"]],
  });
  equal(new TextDecoder().decode(result.raw), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  equal(new TextDecoder().decode(result.rest), "BODY");
});

Deno.test("[http head] too large, malformed, and closed before the end", async () => {
  deepStrictEqual(await readHead(chunks("GET / HTTP/1.1\r\nX: " + "a".repeat(2_000)), 1_000), {
    ok: false,
    error: "too_large",
  });
  deepStrictEqual(await readHead(chunks("GET / HTTP/1.1\r\n folded\r\n\r\n"), 1_000), {
    ok: false,
    error: "malformed",
  });
  deepStrictEqual(await readHead(chunks("GET / HTTP/1.1\r\n"), 1_000), {
    ok: false,
    error: "closed",
  });
  equal(parseHead(enc.encode("GET / HTTP/2.0\r\n\r\n")), null);
  equal(parseHead(enc.encode("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")), null);
});

Deno.test("[http head] upgrades: detection, handshake checks, the Request and the accept key", async () => {
  const head = parseHead(enc.encode(UPGRADE))!;
  ok(isUpgradeHead(head));
  equal(handshakeProblem(head), null);
  const req = requestOf(head)!;
  equal(req.url, "http://127.0.0.1:8000/api/ws?x=1");
  equal(req.headers.get("origin"), "http://127.0.0.1:8000");
  // RFC 6455 §1.3's example.
  equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const noKey = parseHead(enc.encode(UPGRADE.replace(/Sec-WebSocket-Key: \S+/, "X: y")))!;
  equal(handshakeProblem(noKey), "Sec-WebSocket-Key must be 16 bytes in base64");
  const badHost = parseHead(enc.encode(UPGRADE.replace("127.0.0.1:8000\r", "a@b/c\r")))!;
  equal(requestOf(badHost), null);
  ok(!isUpgradeHead(parseHead(enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))!));
});
