// Bench peer: Node + `ws` (from bench/.peers, see install.ts). Contract in ./README.md.
//
//   PORT=0 TOKEN=secret node --expose-gc bench/peers/ws_server.mjs
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  envPort,
  exitOnSignals,
  gc,
  parsePublish,
  readJson,
  runTicks,
  sendJson,
  stats,
  tokenChecker,
} from "./_common.mjs";

const { WebSocketServer } = createRequire(new URL("../.peers/", import.meta.url))("ws");

const tokenOk = tokenChecker(process.env.TOKEN);
/** @type {Map<string, Set<import("ws").WebSocket>>} */
const channels = new Map();
let connections = 0;

function publish(channel, data) {
  const subscribers = channels.get(channel);
  if (!subscribers) return;
  // Serialized and UTF-8 encoded once per publish; sent as a text frame to everyone.
  const frame = Buffer.from(JSON.stringify({ type: "message", channel, data }));
  for (const socket of subscribers) socket.send(frame, { binary: false });
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
});
wss.on("connection", (socket) => {
  connections++;
  const mine = new Set();
  socket.on("close", () => {
    connections--;
    for (const channel of mine) {
      const subscribers = channels.get(channel);
      subscribers.delete(socket);
      if (subscribers.size === 0) channels.delete(channel);
    }
  });
  socket.on("message", (raw, isBinary) => {
    if (isBinary) return;
    let msg;
    try {
      msg = JSON.parse(raw.toString());
    } catch {
      return;
    }
    if (msg?.type === "subscribe" && typeof msg.channel === "string") {
      let subscribers = channels.get(msg.channel);
      if (!subscribers) channels.set(msg.channel, subscribers = new Set());
      subscribers.add(socket);
      mine.add(msg.channel);
      socket.send(JSON.stringify({ type: "subscribed", channel: msg.channel }));
    } else if (msg?.type === "ping") socket.send('{"type":"pong"}');
  });
});

const server = createServer(async (req, res) => {
  const path = req.url.split("?", 1)[0];
  if (req.method === "POST" && path === "/publish") {
    const request = parsePublish(await readJson(req));
    if (typeof request === "string") return sendJson(res, 400, { error: request });
    return sendJson(res, 200, { ok: true, ms: await runTicks(request, publish) });
  }
  if (req.method === "GET" && path === "/stats") return sendJson(res, 200, stats(connections));
  if (req.method === "POST" && path === "/gc") return sendJson(res, 200, gc());
  sendJson(res, path === "/ws" ? 426 : 404, {
    error: path === "/ws" ? "upgrade required" : "not found",
  });
});

server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname !== "/ws" || !tokenOk(url.searchParams.get("token"))) {
    const status = url.pathname === "/ws" ? "401 Unauthorized" : "404 Not Found";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

exitOnSignals();
server.listen(envPort(), "127.0.0.1", () => console.log(`LISTENING ${server.address().port}`));
