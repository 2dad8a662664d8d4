// Root's bridge, the pure part: the subnet from containers.conf, picking an
// address, when a lease is live, the nftables table the leases make, and
// reading containers.conf's values.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bridgeConfig, bridgeRuleset, leaseAlive, pickAddress, vethName, type Lease } from "../../../pkg/network/bridge.ts";
import { confBool, confList, confString } from "../../../pkg/network/conf.ts";
import { resolvConf } from "../../../pkg/network/helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-bridge-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const conf = (text: string) => {
  const f = join(tmp, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(f, text);
  return f;
};

describe("the bridge's subnet", () => {
  test("podman's 10.88.0.0/16 unless default_subnet says otherwise", () => {
    expect(bridgeConfig([])).toMatchObject({ name: "pod0", subnet: "10.88.0.0/16", gateway: "10.88.0.1", prefix: 16 });
    const c = bridgeConfig([conf('[network]\ndefault_subnet = "172.30.5.77/24"\n')]);
    expect(c).toMatchObject({ subnet: "172.30.5.0/24", gateway: "172.30.5.1", prefix: 24 });
  });

  test("a subnet that is not one is an error naming the value", () => {
    for (const bad of ["10.88.0.0", "10.88.0.0/31", "300.1.1.1/16", "fd00::/64"])
      expect(() => bridgeConfig([conf(`[network]\ndefault_subnet = "${bad}"\n`)])).toThrow(bad);
  });
});

describe("addresses", () => {
  const c = bridgeConfig([conf('[network]\ndefault_subnet = "10.9.9.0/29"\n')]);
  test("the lowest free one, past the gateway, short of the broadcast", () => {
    expect(pickAddress(c, [])).toBe("10.9.9.2");
    expect(pickAddress(c, ["10.9.9.2", "10.9.9.4"])).toBe("10.9.9.3");
    expect(() => pickAddress(c, ["10.9.9.2", "10.9.9.3", "10.9.9.4", "10.9.9.5", "10.9.9.6"])).toThrow("no free address");
  });

  test("a lease lives while its veth exists, or before that while the pod that took it runs", () => {
    const l: Lease = { id: "a".repeat(64), ip: "10.9.9.2", veth: vethName("a".repeat(64)), ports: [], owner: 42, ownerStart: 7 };
    expect(l.veth).toBe("vethaaaaaaaaaaa");
    expect(l.veth.length).toBeLessThanOrEqual(15);
    expect(leaseAlive(l, () => true, () => undefined)).toBe(true);
    expect(leaseAlive(l, () => false, () => 7)).toBe(true);
    expect(leaseAlive(l, () => false, () => 8)).toBe(false); // the pid was reused
    expect(leaseAlive(l, () => false, () => undefined)).toBe(false);
  });
});

describe("the nftables table", () => {
  const c = bridgeConfig([]);
  test("replaced whole: masquerade out of the subnet, a DNAT per published port", () => {
    const rules = bridgeRuleset(c, [
      { id: "x", ip: "10.88.0.2", veth: "vethx", owner: 1, ports: [{ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" }] },
      { id: "y", ip: "10.88.0.3", veth: "vethy", owner: 1, ports: [{ hostIp: "", hostPort: 5353, containerPort: 53, protocol: "udp" }] },
    ]);
    expect(rules.startsWith("table inet pod {}\ndelete table inet pod\ntable inet pod {")).toBe(true);
    expect(rules).toContain("ip saddr 10.88.0.0/16 ip daddr != 10.88.0.0/16 masquerade");
    expect(rules).toContain('oifname "pod0" ip saddr 127.0.0.0/8 masquerade');
    expect(rules).toContain("meta nfproto ipv4 ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.88.0.2:80");
    expect(rules).toContain("meta nfproto ipv4 udp dport 5353 dnat ip to 10.88.0.3:53");
    expect(rules.match(/fib daddr type local jump published/g)?.length).toBe(2);
  });
});

describe("containers.conf values", () => {
  test("strings, lists and booleans from their section; the last file wins; comments ignored", () => {
    const a = conf('[containers]\ndns_servers = ["1.1.1.1", "9.9.9.9"] # two\nno_hosts = true\n[network]\nx = "a"\n');
    const b = conf('# x = "c"\n[network]\nx = "b"\n');
    expect(confList([a], "containers", "dns_servers")).toEqual(["1.1.1.1", "9.9.9.9"]);
    expect(confBool([a], "containers", "no_hosts")).toBe(true);
    expect(confString([a, b], "network", "x")).toBe("b");
    expect(confString([a], "containers", "x")).toBeUndefined();
  });
});

test("a bridged container's resolv.conf drops the host's loopback resolvers, as podman does", () => {
  const none = { servers: [], search: [], options: [] };
  expect(resolvConf("nameserver 127.0.0.53\nnameserver 10.1.1.1\n", "bridge", none)).toBe("nameserver 10.1.1.1\n");
  expect(resolvConf("nameserver 127.0.0.53\n", "bridge", none)).toBe("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
});
