import { equal } from "node:assert/strict";
import { addressKey } from "./address.ts";

Deno.test("[auth] addressKey: IPv4 per address, IPv6 per /64", () => {
  equal(addressKey("203.0.113.7"), "203.0.113.7");
  equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
  equal(addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  equal(addressKey("2001:DB8:1:2::1"), "2001:db8:1:2::/64", "compressed, any case");
  equal(addressKey("[2001:db8:1:2::ffff]"), "2001:db8:1:2::/64", "bracketed");
  equal(addressKey("2001:0db8:0001:0002::9%eth0"), "2001:db8:1:2::/64", "zone, leading zeros");
  equal(addressKey("2001:db8::"), "2001:db8:0:0::/64");
  equal(addressKey("::1"), "0:0:0:0::/64");
  equal(addressKey("fe80::1::2"), "fe80::1::2", "malformed: counted as given");
  equal(addressKey("x".repeat(100)), "x".repeat(64), "bounded");
  equal(addressKey("unknown"), "unknown");
});
