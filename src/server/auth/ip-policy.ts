import { BlockList, isIP } from "node:net";

/**
 * Addresses an outbound fetch of a client-supplied URL must never reach (SSRF): loopback, private, link-local
 * (cloud metadata at 169.254.169.254 and fd00:ec2::254), unique-local, CGNAT, multicast, reserved, documentation,
 * and IPv6 forms that embed an IPv4 address we cannot vouch for (mapped, NAT64, 6to4, Teredo).
 */
const nonPublic = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  nonPublic.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  nonPublic.addSubnet(net, prefix, "ipv6");
}

/**
 * IPv4-mapped IPv6 (::ffff:a.b.c.d). Kept apart: Node's BlockList also matches plain IPv4 addresses against
 * IPv6 rules in their mapped form, so this rule in `nonPublic` would refuse every IPv4 address.
 */
const mapped = new BlockList();
mapped.addSubnet("::ffff:0:0", 96, "ipv6");

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

function family(address: string): "ipv4" | "ipv6" | undefined {
  const v = isIP(address);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
}

export function isPublicAddress(address: string): boolean {
  const f = family(address);
  if (f === undefined || nonPublic.check(address, f)) return false;
  return !(f === "ipv6" && mapped.check(address, "ipv6"));
}

export function isLoopbackAddress(address: string): boolean {
  const f = family(address);
  return f !== undefined && loopback.check(address, f);
}
