/**
 * Bench peer: plain Deno (`Deno.serve` + `Deno.upgradeWebSocket`, no framework), the
 * runtime's ceiling. Contract in ./README.md.
 *
 *   PORT=0 TOKEN=secret deno run -A --v8-flags=--expose-gc bench/peers/raw_deno.ts
 */
import {
  envPort,
  exitOnSignals,
  gc,
  parsePublish,
  runTicks,
  stats,
  tokenChecker,
} from "./_common.mjs";

const tokenOk = tokenChecker(Deno.env.get("TOKEN") ?? "");
const channels = new Map<string, Set<WebSocket>>();
let connections = 0;

function publish(channel: string, data: unknown): void {
  const subscribers = channels.get(channel);
  if (!subscribers) return;
  const text = JSON.stringify({ type: "message", channel, data }); // once per publish
  for (const socket of subscribers) socket.send(text);
}

function accept(req: Request): Response {
  const { socket, response } = Deno.upgradeWebSocket(req);
  const mine = new Set<string>();
  let open = false;
  socket.onopen = () => {
    open = true;
    connections++;
  };
  socket.onclose = () => {
    if (open) connections--;
    for (const channel of mine) {
      const subscribers = channels.get(channel)!;
      subscribers.delete(socket);
      if (subscribers.size === 0) channels.delete(channel);
    }
  };
  socket.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
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
  };
  return response;
}

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/ws") {
    if (!tokenOk(url.searchParams.get("token"))) return new Response(null, { status: 401 });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response(null, { status: 426 });
    }
    return accept(req);
  }
  if (req.method === "POST" && url.pathname === "/publish") {
    const request = parsePublish(await req.json().catch(() => null));
    if (typeof request === "string") return Response.json({ error: request }, { status: 400 });
    return Response.json({ ok: true, ms: await runTicks(request, publish) });
  }
  if (req.method === "GET" && url.pathname === "/stats") return Response.json(stats(connections));
  if (req.method === "POST" && url.pathname === "/gc") return Response.json(gc());
  return new Response(null, { status: 404 });
}

exitOnSignals();
Deno.serve({
  hostname: "127.0.0.1",
  port: envPort(),
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, handle);
