/**
 * The key a per-address limit counts under. An IPv6 client usually controls a whole /64
 * (one subnet per household or server), so counting single IPv6 addresses would let it
 * rotate past any limit; its /64 prefix is counted instead. IPv4 (also IPv4-mapped IPv6)
 * counts per address.
 */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function expandIpv6(ip: string): string[] | null {
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/**
 * `ip` for IPv4, the IPv4 of an IPv4-mapped address, `<first four groups>::/64` for IPv6,
 * and the input itself (at most 64 characters) for anything else.
 */
export function addressKey(ip: string): string {
  const text = ip.trim().toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (IPV4.test(text)) return text;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (mapped) return mapped[1];
  const groups = text.includes(":") ? expandIpv6(text) : null;
  if (!groups) return text.slice(0, 64);
  return `${groups.slice(0, 4).join(":")}::/64`;
}
