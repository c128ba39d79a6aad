import type { PageProps } from "$fresh/server.ts";

export default function Ip({ remoteAddr }: PageProps) {
  return <p class="ip">{remoteAddr.hostname}:{remoteAddr.port}</p>;
}
