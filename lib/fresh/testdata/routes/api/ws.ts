import type { Handlers } from "$fresh/server.ts";

export const handler: Handlers = {
  GET(req) {
    if (req.headers.get("upgrade") !== "websocket") {
      return new Response("expected a websocket", { status: 400 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (event) => socket.send(`echo ${event.data}`);
    return response;
  },
};
