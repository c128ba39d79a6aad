// Bench peer: Node + Socket.IO (from bench/.peers, see install.ts), websocket transport
// only, no compression, rooms for channels. Contract in ./README.md.
//
//   PORT=0 TOKEN=secret node --expose-gc bench/peers/socketio_server.mjs
import { createServer } from "node:http";
import { createRequire } from "node:module";
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

const { Server } = createRequire(new URL("../.peers/", import.meta.url))("socket.io");

const tokenOk = tokenChecker(process.env.TOKEN);

// Socket.IO takes over /socket.io/ and hands every other request to this handler.
const server = createServer(async (req, res) => {
  const path = req.url.split("?", 1)[0];
  if (req.method === "POST" && path === "/publish") {
    const request = parsePublish(await readJson(req));
    if (typeof request === "string") return sendJson(res, 400, { error: request });
    const ms = await runTicks(
      request,
      (channel, data) => io.to(channel).emit("message", { channel, data }),
    );
    return sendJson(res, 200, { ok: true, ms });
  }
  if (req.method === "GET" && path === "/stats") {
    return sendJson(res, 200, stats(io.engine.clientsCount));
  }
  if (req.method === "POST" && path === "/gc") return sendJson(res, 200, gc());
  sendJson(res, 404, { error: "not found" });
});

const io = new Server(server, {
  transports: ["websocket"],
  allowUpgrades: false,
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});
io.use((socket, next) =>
  next(tokenOk(socket.handshake.auth?.token) ? undefined : new Error("unauthorized"))
);
io.on("connection", (socket) => {
  socket.on("subscribe", (channel) => {
    if (typeof channel !== "string") return;
    socket.join(channel);
    socket.emit("subscribed", channel);
  });
});

exitOnSignals();
server.listen(envPort(), "127.0.0.1", () => console.log(`LISTENING ${server.address().port}`));
