// The pure part of networking: --network and -p as podman spells them, the
// helper's command line, resolv.conf, the host's address, and reading what
// the installed pasta offers.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatNamed, formatPort, parseMac, parseNetworkMode, parsePublish, requireMac, slirpForwardsPorts } from "../../../pkg/network/mode.ts";
import { derivedMac } from "../../../pkg/network/usernet.ts";
import { configuredDefault, helperCommand, hostGateway, pastaOffers, resolvConf, PASTA_DNS_FORWARD, type HelperChoice } from "../../../pkg/network/helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-net-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("-p", () => {
  test("podman's forms", () => {
    expect(parsePublish("8080:80")).toEqual([{ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" }]);
    expect(parsePublish("127.0.0.1:8080:80/udp")).toEqual([{ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "udp" }]);
    expect(parsePublish("127.0.0.1::80")).toEqual([{ hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" }]);
    expect(parsePublish("80")).toEqual([{ hostIp: "", hostPort: 0, containerPort: 80, protocol: "tcp" }]);
    expect(parsePublish("[::1]:8080:80")[0]!.hostIp).toBe("::1");
    expect(parsePublish("8080-8082:80-82").map((p) => `${p.hostPort}:${p.containerPort}`)).toEqual(["8080:80", "8081:81", "8082:82"]);
    expect(parsePublish("53:53/tcp,udp").map((p) => p.protocol)).toEqual(["tcp", "udp"]);
  });

  test("bad specs are one clear error", () => {
    for (const bad of ["0:80", "8080:99999", "8080-8081:80", "80/sctp", "x:80", "1.2.3.999:80:80", "a:b:c:d"]) expect(() => parsePublish(bad)).toThrow();
  });

  test("the PORTS column form", () => {
    expect(formatPort({ hostIp: "", hostPort: 8080, containerPort: 80, protocol: "tcp" })).toBe("0.0.0.0:8080->80/tcp");
    expect(formatPort({ hostIp: "::1", hostPort: 53, containerPort: 53, protocol: "udp" })).toBe("[::1]:53->53/udp");
  });
});

describe("--network", () => {
  test("modes", () => {
    expect(parseNetworkMode(undefined, false).kind).toBe("default");
    expect(parseNetworkMode("private", false).kind).toBe("default");
    expect(parseNetworkMode("none", false).kind).toBe("none");
    expect(parseNetworkMode("host", false).kind).toBe("host");
    expect(parseNetworkMode("pasta:-4,--mtu,1500", false)).toEqual({ kind: "pasta", args: ["-4", "--mtu", "1500"] });
    expect(parseNetworkMode("slirp4netns:allow_host_loopback=true,mtu=1500", false)).toEqual({ kind: "slirp4netns", opts: { allowHostLoopback: true, enableIpv6: false, mtu: 1500 } });
  });

  test("NAME:interface_name= names the container's interface; a name the kernel refuses is refused", () => {
    expect(parseNetworkMode("front:interface_name=lan0", false)).toMatchObject({ kind: "named", options: { front: { interfaceName: "lan0" } } });
    expect(formatNamed(["front"], { front: { aliases: [], interfaceName: "lan0" } })).toBe("front:interface_name=lan0");
    for (const bad of ["front:interface_name=a/b", "front:interface_name=0123456789abcdef", "front:interface_name=lo", "front:interface_name="]) expect(() => parseNetworkMode(bad, false)).toThrow();
  });

  test("slirp4netns port_handler: rootlesskit is pod's forwarder (the default), slirp4netns its own add_hostfwd", () => {
    expect(parseNetworkMode("slirp4netns:port_handler=rootlesskit", false)).toMatchObject({ opts: { portHandler: "rootlesskit" } });
    expect(slirpForwardsPorts("slirp4netns:port_handler=slirp4netns")).toBe(true);
    expect(slirpForwardsPorts("slirp4netns:port_handler=rootlesskit")).toBe(false);
    expect(slirpForwardsPorts("slirp4netns")).toBe(false);
    expect(slirpForwardsPorts(undefined)).toBe(false);
  });

  test("container:NAME and ns:PATH join another namespace", () => {
    expect(parseNetworkMode("container:web", false)).toEqual({ kind: "container", target: "web" });
    expect(parseNetworkMode("ns:/run/netns/x", false)).toEqual({ kind: "ns", path: "/run/netns/x" });
  });

  test("as root the default, bridge and podman are the bridge", () => {
    for (const v of [undefined, "", "private", "bridge", "podman"]) expect(parseNetworkMode(v, true).kind).toBe("bridge");
    expect(parseNetworkMode("pasta", true).kind).toBe("pasta");
  });

  test("what pod does not do yet, and typos, are refused", () => {
    for (const bad of ["container:", "ns:relative/path", "slirp", "mynet:ip=x", "slirp4netns:bogus=1", "slirp4netns:mtu=10", "slirp4netns:port_handler=other", "-x"]) expect(() => parseNetworkMode(bad, false)).toThrow();
  });
});

const pasta: HelperChoice = { kind: "pasta", path: "/usr/bin/pasta", slirp: { allowHostLoopback: false, enableIpv6: false, mtu: 65520 }, pastaArgs: [] };
const files = { pidFile: "/run/p.pid", logFile: "/run/p.log", apiSocket: "/run/s.sock" };

describe("the helper's command line", () => {
  test("pasta: foreground, quiet, its pid file as the ready signal, ports with its own -t/-u", () => {
    const c = helperCommand(pasta, [{ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "tcp" }], files, "nameserver 10.0.0.1\n", false);
    expect(c.slice(0, 4)).toEqual(["pidfile", "/run/p.pid", "/run/p.log", "/usr/bin/pasta"]);
    expect(c.join(" ")).toContain("--config-net -f -q -P /run/p.pid -t 127.0.0.1/8080:80 -u none -T none -U none");
    expect(c.at(-1)).toBe("@PID@");
  });

  test("slirp4netns: ready fd, no host loopback unless asked, no API socket (pod's proxy publishes the ports)", () => {
    const s: HelperChoice = { ...pasta, kind: "slirp4netns", path: "/usr/bin/slirp4netns" };
    const c = helperCommand(s, [], files, "", false);
    expect(c[0]).toBe("readyfd");
    expect(c).toContain("--disable-host-loopback");
    expect(c).not.toContain("--api-socket");
    expect(c.slice(-2)).toEqual(["@PID@", "tap0"]);
    const withPorts = helperCommand({ ...s, slirp: { ...s.slirp, allowHostLoopback: true } }, [{ hostIp: "", hostPort: 1, containerPort: 1, protocol: "tcp" }], files, "");
    expect(withPorts).not.toContain("--disable-host-loopback");
    expect(withPorts).not.toContain("--api-socket");
  });
});

describe("resolv.conf and the host", () => {
  test("a loopback resolver becomes pasta's forwarder; slirp4netns has its own; --dns wins", () => {
    const host = "nameserver 127.0.0.53\nsearch corp.test\noptions edns0\n";
    expect(resolvConf(host, "pasta", { servers: [], search: [], options: [] })).toBe(`search corp.test\nnameserver ${PASTA_DNS_FORWARD}\noptions edns0\n`);
    expect(resolvConf(host, "slirp4netns", { servers: [], search: [], options: [] })).toContain("nameserver 10.0.2.3\n");
    expect(resolvConf(host, "pasta", { servers: ["9.9.9.9"], search: ["a.test"], options: ["ndots:2"] })).toBe("search a.test\nnameserver 9.9.9.9\noptions ndots:2\n");
    expect(resolvConf(host, "pasta", { servers: ["none"], search: [], options: [] })).not.toContain("nameserver");
  });

  test("the default gateway from /proc/net/route", () => {
    const routes = "Iface\tDestination\tGateway\tFlags\nIf\t00000000\t010200C0\t0003\neth0\t000200C0\t00000000\t0001\n";
    expect(hostGateway(routes)).toBe("192.0.2.1");
    expect(hostGateway("Iface\tDestination\tGateway\n")).toBeUndefined();
  });

  test("containers.conf default_rootless_network_cmd: the last file wins, only in [network]", () => {
    const a = join(tmp, "a.conf");
    const b = join(tmp, "b.conf");
    writeFileSync(a, '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n');
    writeFileSync(b, '[containers]\ndefault_rootless_network_cmd = "pasta"\n');
    expect(configuredDefault([a, b, join(tmp, "missing")])).toBe("slirp4netns");
    writeFileSync(b, '[network]\ndefault_rootless_network_cmd = "pasta" # comment\n');
    expect(configuredDefault([a, b])).toBe("pasta");
  });

  test("pasta's options are read from its --help, once per binary", () => {
    const fake = join(tmp, "pasta");
    writeFileSync(fake, "#!/bin/sh\necho '  --dns-forward ADDR	Forward DNS queries'\necho '  -t, --tcp-ports SPEC'\n");
    chmodSync(fake, 0o755);
    const cache = join(tmp, "help-cache");
    expect(pastaOffers(fake, "--dns-forward", cache)).toBe(true);
    expect(pastaOffers(fake, "--map-guest-addr", cache)).toBe(false);
    writeFileSync(fake, "#!/bin/sh\nexit 1\n");
    expect(pastaOffers(fake, "--dns-forward", cache), "a changed binary is probed again").toBe(false);
  });
});

describe("MAC addresses on user networks", () => {
  test("mac= is parsed, lower-cased and written back; multicast and malformed ones are refused", () => {
    const m = parseNetworkMode("web:ip=10.89.0.5,mac=92:D0:C6:0A:29:33,alias=w", false);
    expect(m).toEqual({ kind: "named", names: ["web"], options: { web: { ip: "10.89.0.5", mac: "92:d0:c6:0a:29:33", aliases: ["w"] } } });
    expect(formatNamed(["web"], { web: { mac: "92:d0:c6:0a:29:33", aliases: [] } })).toBe("web:mac=92:d0:c6:0a:29:33");
    expect(parseMac("01:00:5e:00:00:01")).toBeUndefined();
    expect(parseMac("92:d0:c6:0a:29")).toBeUndefined();
    expect(() => requireMac("zz", "x")).toThrow("not a unicast MAC");
  });
  test("a derived MAC is stable, unicast and locally administered, and differs per network", () => {
    const a = derivedMac("abc123", "net1");
    expect(a).toBe(derivedMac("abc123", "net1"));
    expect(a).not.toBe(derivedMac("abc123", "net2"));
    expect(parseMac(a)).toBe(a);
    expect(parseInt(a.slice(0, 2), 16) & 0x03).toBe(0x02);
  });
});
