import { describe, expect, test } from "bun:test";
import { bareName, buildAnswer, ipv6Bytes, isLocalName, parseQuery, TYPE_A, TYPE_AAAA } from "../../../pkg/network/dns.ts";
import { addressRange, freeSubnet, parseCidr, defaultNetwork } from "../../../pkg/network/networks.ts";
import { chooseAddress, hostRuleset, keeperUpstreams, userRuleset, userVethName, type UserLease } from "../../../pkg/network/usernet.ts";
import { checkBridgeOptions, ipv6Of, ula64, type NetworkRecord } from "../../../pkg/network/networks.ts";
import { lookup } from "../../../pkg/network/keeper.ts";
import { formatNamed, parseNetworkMode } from "../../../pkg/network/mode.ts";

/** A query for name/type as a resolver sends it (id 0x1234, recursion desired). */
function query(name: string, type: number): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return new Uint8Array([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, type, 0, 1]);
}

const lease = (o: Partial<UserLease>): UserLease => ({
  id: "a".repeat(64), name: "web", aliases: [], network: "front", bridge: "podman1", internal: false, dns: true, ip: "10.89.0.2", gateway: "10.89.0.1", prefix: 24, veth: "vethaaaa0", owner: 1, ...o,
});

describe("dns messages", () => {
  test("a query's question is read, case-folded", () => {
    const q = parseQuery(query("Web.DNS.podman", TYPE_A))!;
    expect(q).toMatchObject({ id: 0x1234, name: "web.dns.podman", type: TYPE_A, recursion: true });
    expect(bareName(q.name)).toBe("web");
  });
  test("responses and truncated packets are not queries", () => {
    const r = query("web", TYPE_A);
    r[2] = 0x81;
    expect(parseQuery(r)).toBeUndefined();
    expect(parseQuery(query("web", TYPE_A).subarray(0, 14))).toBeUndefined();
  });
  test("an A answer carries the addresses; AAAA of a known name has none; an unknown name is NXDOMAIN", () => {
    const msg = query("web", TYPE_A);
    const a = buildAnswer(msg, parseQuery(msg)!, ["10.89.0.2"]);
    expect(a[3]! & 0xf).toBe(0);
    expect((a[6]! << 8) | a[7]!).toBe(1);
    expect([...a.subarray(a.length - 4)]).toEqual([10, 89, 0, 2]);
    const six = query("web", TYPE_AAAA);
    expect((buildAnswer(six, parseQuery(six)!, ["10.89.0.2"])[7])).toBe(0);
    expect(buildAnswer(msg, parseQuery(msg)!, undefined)[3]! & 0xf).toBe(3);
  });
  test("single labels and the dns.podman domain never go upstream", () => {
    expect(isLocalName("web")).toBe(true);
    expect(isLocalName("web.dns.podman.")).toBe(true);
    expect(isLocalName("example.org")).toBe(false);
  });
});

describe("names on user networks", () => {
  const leases = [lease({}), lease({ id: "b".repeat(64), name: "db", ip: "10.89.0.3", aliases: ["database"] }), lease({ id: "c".repeat(64), name: "other", network: "back", ip: "10.89.1.2" })];
  test("a container finds the others of its network by name, alias and short id", () => {
    expect(lookup(leases, "10.89.0.2", "db")).toEqual(["10.89.0.3"]);
    expect(lookup(leases, "10.89.0.2", "database.dns.podman")).toEqual(["10.89.0.3"]);
    expect(lookup(leases, "10.89.0.2", "b".repeat(12))).toEqual(["10.89.0.3"]);
  });
  test("a container on two networks finds the containers of both, whichever address it asks from", () => {
    const two = [...leases, lease({ network: "back", ip: "10.89.1.3" })];
    expect(lookup(two, "10.89.0.2", "other")).toEqual(["10.89.1.2"]);
  });
  test("never a container of a network it is not on, nor for a querier pod does not know", () => {
    expect(lookup(leases, "10.89.1.2", "db")).toBeUndefined();
    expect(lookup(leases, "10.89.9.9", "db")).toBeUndefined();
    expect(lookup([lease({ dns: false }), lease({ name: "db", ip: "10.89.0.3", dns: false })], "10.89.0.2", "db"), "a network without DNS").toBeUndefined();
  });
});

describe("network records", () => {
  test("new networks take the next free /24 of 10.89.0.0/16", () => {
    expect(freeSubnet([])).toBe("10.89.0.0/24");
    expect(freeSubnet(["10.88.0.0/16", "10.89.0.0/24", "10.89.2.0/23"])).toBe("10.89.1.0/24");
  });
  test("subnets are normalised and bounded", () => {
    expect(parseCidr("10.89.5.7/24")).toEqual({ base: (10 << 24 | 89 << 16 | 5 << 8) >>> 0, prefix: 24 });
    expect(() => parseCidr("10.89.5.0/31")).toThrow("invalid subnet");
    expect(() => parseCidr("fd00::/64")).toThrow("invalid subnet");
  });
  test("the default network is podman's", () => {
    const d = defaultNetwork();
    expect(d).toMatchObject({ name: "podman", network_interface: "podman0", subnets: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }] });
    expect(addressRange(d).prefix).toBe(16);
  });
  test("--network NAME[,NAME] names user networks; modes do not mix with them", () => {
    expect(parseNetworkMode("front,back", false)).toEqual({ kind: "named", names: ["front", "back"] });
    expect(parseNetworkMode("bridge", false)).toEqual({ kind: "named", names: ["podman"] });
    expect(parseNetworkMode("podman", true)).toEqual({ kind: "bridge" });
    expect(() => parseNetworkMode("front,host", false)).toThrow("cannot be combined");
    expect(() => parseNetworkMode("front:ip6=fd00::5", false)).toThrow("not supported by pod yet");
    expect(() => parseNetworkMode("front:ip=nope", false)).toThrow("malformed option");
  });
  test("per-network options, several --network values, and back", () => {
    const m = parseNetworkMode("front:ip=10.89.0.5,alias=web back", false);
    expect(m).toEqual({ kind: "named", names: ["front", "back"], options: { front: { ip: "10.89.0.5", aliases: ["web"] } } });
    if (m.kind !== "named") throw new Error("named");
    expect(formatNamed(m.names, m.options)).toBe("front:ip=10.89.0.5,alias=web back");
    expect(parseNetworkMode(formatNamed(m.names, m.options), false)).toEqual(m);
  });
  test("an address asked for must be in the range and free", () => {
    const n = { ...defaultNetwork(), name: "front", subnets: [{ subnet: "10.89.0.0/24", gateway: "10.89.0.1" }] };
    expect(chooseAddress(n, new Set(["10.89.0.2"]))).toBe("10.89.0.3");
    expect(chooseAddress(n, new Set(), "10.89.0.9")).toBe("10.89.0.9");
    expect(() => chooseAddress(n, new Set(["10.89.0.9"]), "10.89.0.9")).toThrow("already allocated");
    expect(() => chooseAddress(n, new Set(), "10.89.1.9")).toThrow("not in the range");
    expect(() => chooseAddress(n, new Set(), "10.89.0.1")).toThrow("not in the range");
  });
});

describe("the keeper's upstream resolvers", () => {
  test("the host's own; loopback and link-local ones through pasta's forwarder, when it has one", () => {
    expect(keeperUpstreams("nameserver 10.0.0.53\n", true)).toEqual(["10.0.0.53"]);
    expect(keeperUpstreams("nameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver 10.0.0.53\n", true)).toEqual(["169.254.1.1", "10.0.0.53"]);
    expect(keeperUpstreams("nameserver fe80::1%eth0\n", false)).toEqual([]);
  });
});

describe("the shared namespace's rules", () => {
  test("each network reaches itself; only non-internal ones reach pasta's interface", () => {
    const rules = userRuleset([lease({}), lease({ bridge: "podman2", network: "int", internal: true })]);
    expect(rules).toContain('iifname "podman1" oifname "podman1" accept');
    expect(rules).toContain('iifname "podman2" oifname "podman2" accept');
    expect(rules).toContain('iifname "podman1" oifname "tap0" accept');
    expect(rules).not.toContain('iifname "podman2" oifname "tap0"');
    expect(rules).toContain("policy drop");
  });
  test("as root, on the host: each network reaches itself and the outside, masqueraded; nothing new comes in; internal ones stay in; policy accept", () => {
    const rules = hostRuleset([lease({}), lease({ bridge: "podman2", network: "int", internal: true, ip: "10.89.5.2", gateway: "10.89.5.1" })]);
    expect(rules).toContain("table inet pod_networks {");
    expect(rules).toContain("policy accept");
    expect(rules).not.toContain("policy drop");
    expect(rules).toContain('iifname "podman1" oifname "podman1" accept');
    expect(rules).toContain('oifname "podman1" ct state established,related accept');
    expect(rules).toContain('oifname "podman1" drop');
    expect(rules).toContain('iifname "podman1" oifname "pod0" drop');
    expect(rules).toContain('iifname "podman2" drop');
    expect(rules).toContain("ip saddr 10.89.0.0/24 ip daddr != 10.89.0.0/24 masquerade");
    expect(rules).not.toContain("10.89.5.0/24 ip daddr");
    // the same-network accept comes before anything that drops the network's traffic
    expect(rules.indexOf('iifname "podman2" oifname "podman2" accept')).toBeLessThan(rules.indexOf('iifname "podman2" drop'));
  });
  test("veth names fit IFNAMSIZ", () => {
    expect(userVethName("0123456789abcdef", 3).length).toBeLessThanOrEqual(15);
  });
});

describe("network create --opt", () => {
  test("mtu, metric and isolate=true|strict are taken; isolate=false, bad values and other options are refused", () => {
    expect(() => checkBridgeOptions({ mtu: "1400", metric: "100", isolate: "true" })).not.toThrow();
    expect(() => checkBridgeOptions({ isolate: "strict" })).not.toThrow();
    expect(() => checkBridgeOptions({ isolate: "false" })).toThrow("always keeps networks");
    expect(() => checkBridgeOptions({ mtu: "67" })).toThrow("invalid bridge network option mtu");
    expect(() => checkBridgeOptions({ metric: "-1" })).toThrow("invalid");
    expect(() => checkBridgeOptions({ vlan: "5" })).toThrow("unsupported bridge network option vlan");
  });
});

describe("--ipv6 networks", () => {
  const net = (): NetworkRecord => ({
    name: "v6", id: "f".repeat(64), driver: "bridge", network_interface: "podman3", created: "", ipv6_enabled: true, internal: false, dns_enabled: true, ipam_options: { driver: "host-local" },
    subnets: [{ subnet: "10.89.3.0/24", gateway: "10.89.3.1" }, { subnet: "fd12:3456:789a:bcde::/64", gateway: "fd12:3456:789a:bcde::1" }],
  });
  test("a unique local /64, not one another network has", () => {
    const a = ula64("x".repeat(64), []);
    expect(a).toMatch(/^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){3}::\/64$/);
    expect(ula64("x".repeat(64), [a])).not.toBe(a);
  });
  test("the container's IPv6 address has its IPv4 lease's host number", () => {
    expect(ipv6Of(net(), "10.89.3.5")).toEqual({ ip: "fd12:3456:789a:bcde::5", gateway: "fd12:3456:789a:bcde::1", prefix: 64 });
    expect(ipv6Of({ ...net(), ipv6_enabled: false }, "10.89.3.5")).toBeUndefined();
  });
  test("AAAA answers carry the 16 bytes; A answers leave IPv6 addresses out", () => {
    expect(ipv6Bytes("fd12:3456:789a:bcde::5")).toEqual([0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0, 0, 0, 0, 0, 0, 0, 5]);
    const q6 = parseQuery(query("web", TYPE_AAAA))!;
    const a6 = buildAnswer(query("web", TYPE_AAAA), q6, ["fd12:3456:789a:bcde::5"]);
    expect(a6[7]).toBe(1);
    expect([...a6.subarray(a6.length - 16)]).toEqual(ipv6Bytes("fd12:3456:789a:bcde::5"));
    const q4 = parseQuery(query("web", TYPE_A))!;
    expect(buildAnswer(query("web", TYPE_A), q4, ["fd12:3456:789a:bcde::5"])[7]).toBe(0);
  });
  test("the keeper answers AAAA from the leases' IPv6 addresses", () => {
    const ls = [lease({ ip6: "fd12::2" }), lease({ id: "b".repeat(64), name: "db", ip: "10.89.0.3", ip6: "fd12::3" })];
    expect(lookup(ls, "10.89.0.2", "db", TYPE_AAAA)).toEqual(["fd12::3"]);
    expect(lookup(ls, "fd12::2", "db", TYPE_A)).toEqual(["10.89.0.3"]);
    expect(lookup([lease({}), lease({ id: "b".repeat(64), name: "db", ip: "10.89.0.3" })], "10.89.0.2", "db", TYPE_AAAA)).toEqual([]);
  });
});
