// Rootless networking: pasta by default, slirp4netns when pasta is absent or
// asked for, published ports (TCP and UDP) from the host's loopback, the host
// reached from the container through each helper's host mapping, the
// resolv.conf and hosts files each flag makes, and helpers that never
// outlive their container. Traffic goes only to 127.0.0.1 on the host and to
// addresses inside the containers' own namespaces.
import { describe } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { connect as netConnect } from "node:net";
import { createHash, randomBytes } from "node:crypto";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName } from "./helpers.ts";
import { useLifecycle, runD, track, inspectFmt, until, alive, monitorsOf } from "./lifecycle-helpers.ts";
import { freePort, makeTempDir, sleep } from "../fixtures/proc.ts";

useSuite("500-network");
useLifecycle();

const N = requires("subuid", "alpine-fixture", "tun");

/** Host pids of network helpers (pasta, slirp4netns) attached to the container process `pid`. */
function helpersOf(pid: number): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const argv = readFileSync(`/proc/${n}/cmdline`, "utf8").split("\0").filter(Boolean);
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (/(^|\/)(pasta|slirp4netns)$/.test(argv[0] ?? "") && argv.includes(String(pid))) out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Processes whose parent is ppid and whose name (comm) is comm. */
function childrenNamed(ppid: number, comm: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === comm && Number(rest[1]) === ppid && rest[0] !== "Z") out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Sends data to 127.0.0.1:port, half-closes, and returns everything the server sent back before it closed. */
function exchange(port: number, data: Uint8Array, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = netConnect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`no end of the exchange with 127.0.0.1:${port} within ${timeoutMs} ms`))), timeoutMs);
    s.on("connect", () => s.end(data));
    s.on("data", (d) => chunks.push(Buffer.from(d)));
    s.on("end", () => (clearTimeout(timer), s.destroy(), resolve(Buffer.concat(chunks))));
    s.on("error", (e) => (clearTimeout(timer), reject(e)));
  });
}

/** Connects to 127.0.0.1:port and returns what the server sends before closing (retrying while the server starts). */
async function readTcp(port: number, timeoutMs = 10_000, hostname = "127.0.0.1"): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await new Promise<string | null>((resolve) => {
      let data = "";
      Bun.connect({
        hostname,
        port,
        socket: {
          data(_s, d) {
            data += new TextDecoder().decode(d);
          },
          close() {
            resolve(data === "" ? null : data);
          },
          error() {
            resolve(null);
          },
          connectError() {
            resolve(null);
          },
        },
      }).catch(() => resolve(null));
    });
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`nothing came from 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Sends `msg` to 127.0.0.1:port over UDP, again and again, until `arrived()` says it got there. */
async function sendUdpUntil(port: number, msg: string, arrived: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const s = createSocket("udp4");
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      await new Promise<void>((resolve) => s.send(msg, port, "127.0.0.1", () => resolve()));
      await sleep(150);
      if (await arrived()) return;
      if (Date.now() > end) throw new Error(`the UDP datagram to 127.0.0.1:${port} never reached the container`);
    }
  } finally {
    s.close();
  }
}

/** A TCP server on the host's loopback answering each connection with `text`. */
function hostServer(text: string) {
  return Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open(s) { s.write(text); s.end(); }, data() {} } });
}

const TCP_SERVER = (port: number, text: string) => ["sh", "-c", `while true; do echo ${text} | nc -l -p ${port}; done`];
const UDP_SINK = (port: number) => ["sh", "-c", `nc -u -l -p ${port} > /tmp/udp-got`];

describe("the default network", () => {
  N("pasta by default: eth0 with an address, a default route, a reachable resolv.conf", async () => {
    const r = await runPod(["run", "--rm", "alpine", "sh", "-c", "ip -o -4 addr show; ip route; cat /etc/resolv.conf"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/: eth0 +inet /);
    expect(r.stdout).toMatch(/^default via /m);
    expect(r.stdout).toMatch(/^nameserver /m);
    const name = safeName("d");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    expect(await inspectFmt(name, "{{.HostConfig.NetworkMode}}"), "inspect names the helper the default picked").toBe("pasta");
    const helpers = helpersOf(pid);
    expect(helpers.length, "one pasta for the container").toBe(1);
    expect(readFileSync(`/proc/${helpers[0]}/cmdline`, "utf8")).toContain("pasta");
    expectExit(await runPod(["rm", "-f", name]), 0);
    await until("pasta to end with its container", () => !alive(helpers[0]!), 5_000);
    expect(monitorsOf(id)).toEqual([]);
  });

  N("--network none has only lo; --network host sees the host's interfaces", async () => {
    const r = await runPod(["run", "--rm", "--network", "none", "alpine", "ip", "-o", "link"]);
    expectExit(r, 0);
    expect(lines(r.stdout).map((l) => l.split(": ")[1])).toEqual(["lo"]);
    const h = await runPod(["run", "--rm", "--net", "host", "alpine", "ip", "-o", "link"]);
    expectExit(h, 0);
    expect(lines(h.stdout).length).toBeGreaterThan(1);
  });

  N("ping works inside the container's own namespace without privileges", async () => {
    const r = await runPod(["run", "--rm", "alpine", "ping", "-c", "1", "-W", "2", "127.0.0.1"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("1 packets received");
  });

  N("slirp4netns when pasta is not on PATH; one clear error when neither is", async () => {
    const bin = makeTempDir("pod-500-path");
    mkdirSync(join(bin, "only-slirp"));
    symlinkSync("/usr/bin/slirp4netns", join(bin, "only-slirp", "slirp4netns"));
    mkdirSync(join(bin, "none"));
    const r = await runPod(["run", "--rm", "alpine", "ip", "-o", "link"], { env: { PATH: join(bin, "only-slirp") } });
    expectExit(r, 0);
    expect(r.stdout).toContain("tap0");
    const n = await runPod(["run", "--rm", "--name", safeName("x"), "alpine", "true"], { env: { PATH: join(bin, "none") } });
    expectPodError(n, "pasta or slirp4netns");
    expect(n.stderr).toMatch(/Hint: .*apt-get install passt/);
    expect((await runPod(["ps", "-a", "-q"])).stdout).not.toContain("x-");
  });

  N("containers.conf default_rootless_network_cmd = slirp4netns is honoured", async () => {
    writeFileSync(join(pod().home, ".config", "containers", "containers.conf"), '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n');
    try {
      const r = await runPod(["run", "--rm", "alpine", "ip", "-o", "link"]);
      expectExit(r, 0);
      expect(r.stdout).toContain("tap0");
    } finally {
      writeFileSync(join(pod().home, ".config", "containers", "containers.conf"), "");
    }
  });
});

describe("published ports and the host", () => {
  for (const net of ["pasta", "slirp4netns", "slirp4netns:port_handler=slirp4netns"]) {
    N(`-p 127.0.0.1:H:C over TCP and UDP through ${net}`, async () => {
      const [tcp, udp] = [await freePort(), await freePort()];
      const name = safeName("p");
      const id = await runD(name, ["--network", net, "-p", `127.0.0.1:${tcp}:80`, "-p", `127.0.0.1:${udp}:81/udp`, "alpine", "sh", "-c", `${UDP_SINK(81)[2]} & ${TCP_SERVER(80, "hello-tcp")[2]}`]);
      expect(await readTcp(tcp)).toBe("hello-tcp\n");
      await sendUdpUntil(udp, "hello-udp", async () => (await runPod(["exec", name, "cat", "/tmp/udp-got"])).stdout.includes("hello-udp"));
      const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
      const helpers = helpersOf(pid);
      expect(helpers.length).toBe(1);
      // port_handler=slirp4netns: slirp4netns's own add_hostfwd carries them, not pod's forwarder
      const forwarders = childrenNamed(monitorsOf(id)[0]!, "pod-port-fwd");
      expect(forwarders.length).toBe(net === "slirp4netns" ? 1 : 0);
      expectExit(await runPod(["rm", "-f", name]), 0);
      await until(`${net} to end with its container`, () => !alive(helpers[0]!), 5_000);
    });
  }

  // IPv6 where the host has it (a default route): pasta copies the host's addresses
  const hasV6 = readFileSync("/proc/net/ipv6_route", "utf8").split("\n").some((l) => l.startsWith("00000000000000000000000000000000 00 ") && !/ lo$/.test(l.trim()));
  (hasV6 ? N : (name: string) => console.log(`skip: "${name}": the host has no IPv6 default route`))(
    "IPv6 through pasta: a global address in the container, and -p [::1]:H:C from the host's IPv6 loopback",
    async () => {
      const r = await runPod(["run", "--rm", "alpine", "ip", "-6", "-o", "addr", "show", "scope", "global"]);
      expectExit(r, 0);
      expect(r.stdout).toMatch(/inet6 [0-9a-f:]+\/\d+ scope global/);
      const port = await freePort();
      await runD(safeName("v6"), ["-p", `[::1]:${port}:80`, "alpine", ...TCP_SERVER(80, "hello-v6")]);
      expect(await readTcp(port, 10_000, "::1")).toBe("hello-v6\n");
    },
  );

  N("--network container:NAME shares the other's namespace (its eth0, its loopback); a missing or stopped one is refused", async () => {
    const web = safeName("web");
    await runD(web, ["alpine", ...TCP_SERVER(80, "hello-shared")]);
    const r = await runPod(["run", "--rm", "--network", `container:${web}`, "alpine", "sh", "-c", "ip -o link; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 127.0.0.1 80 </dev/null && exit 0; sleep 0.3; done; exit 1"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("eth0");
    expect(r.stdout).toContain("hello-shared");
    // the joiner shares the other's /etc/hosts (its name and host.containers.internal), as podman does
    const hosts = await runPod(["run", "--rm", "--network", `container:${web}`, "--add-host", "extra.test:10.9.9.9", "alpine", "cat", "/etc/hosts"]);
    expectExit(hosts, 0);
    const own = await runPod(["exec", web, "cat", "/etc/hosts"]);
    expectExit(own, 0);
    expect(hosts.stdout).toContain(own.stdout);
    expect(hosts.stdout).toMatch(new RegExp(`\\s${web}(\\s|$)`, "m"));
    expect(hosts.stdout).toContain("10.9.9.9\textra.test");
    expectPodError(await runPod(["run", "--rm", "--network", "container:no-such-ctr", "alpine", "true"]), "no such container");
    const stopped = safeName("st");
    track(stopped);
    expectExit(await runPod(["create", "--name", stopped, "alpine", "true"]), 0);
    expectPodError(await runPod(["run", "--rm", "--network", `container:${stopped}`, "alpine", "true"]), "not running");
    expectPodError(await runPod(["run", "--rm", "--network", `container:${web}`, "-p", "8080:80", "alpine", "true"]), "-p cannot be used");
  });

  N("-p without a host port gets a free one", async () => {
    const name = safeName("f");
    await runD(name, ["-p", "127.0.0.1::80", "alpine", ...TCP_SERVER(80, "free-port")]);
    const ports = await inspectFmt(name, "{{json .HostConfig.PortBindings}}");
    const port = Number(/"HostPort":"(\d+)"/.exec(ports)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await readTcp(port)).toBe("free-port\n");
  });

  N("pod port, the PORTS column of ps and inspect's NetworkSettings.Ports show what is published; -P publishes --expose", async () => {
    const host = await freePort();
    const name = safeName("port");
    await runD(name, ["-p", `127.0.0.1:${host}:80`, "-P", "--expose", "90", "alpine", "sleep", "1000"]);
    const p = await runPod(["port", name]);
    expectExit(p, 0);
    const ls = lines(p.stdout);
    expect(ls).toContain(`80/tcp -> 127.0.0.1:${host}`);
    const exposed = ls.find((l) => l.startsWith("90/tcp -> 0.0.0.0:"));
    expect(exposed, "-P gave --expose 90 a host port").toBeDefined();
    const one = await runPod(["port", name, "80"]);
    expectExit(one, 0);
    expect(one.stdout).toBe(`127.0.0.1:${host}\n`);
    expectPodError(await runPod(["port", name, "81/udp"]), "81/udp");
    const ps = await runPod(["ps", "--filter", `name=${name}`, "--format", "{{.Ports}}"]);
    expectExit(ps, 0);
    expect(ps.stdout).toContain(`127.0.0.1:${host}->80/tcp`);
    const ins = await inspectFmt(name, "{{json .NetworkSettings.Ports}}");
    expect(JSON.parse(ins)["80/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(host) }]);
    const all = await runPod(["port", "-a"]);
    expect(all.stdout).toContain(`80/tcp -> 127.0.0.1:${host}`);
  });

  N("a host port in use is a clear error before the container starts, and leaves nothing", async () => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const name = safeName("c");
      const r = await runPod(["run", "-d", "--name", name, "-p", `127.0.0.1:${busy.port}:80`, "alpine", "sleep", "10"]);
      expectPodError(r, String(busy.port), "address already in use");
      expect((await runPod(["ps", "-a", "--format", "{{.Names}}"])).stdout).not.toContain(name);
    } finally {
      busy.stop(true);
    }
  });

  N("the host's loopback through host.containers.internal: pasta, and slirp4netns with allow_host_loopback=true", async () => {
    const srv = hostServer("from-the-host");
    try {
      for (const net of ["pasta", "slirp4netns:allow_host_loopback=true"]) {
        const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `grep host.containers.internal /etc/hosts; nc -w 3 host.containers.internal ${srv.port} </dev/null`]);
        expectExit(r, 0);
        expect(r.stdout, net).toContain("from-the-host");
      }
      const plain = await runPod(["run", "--rm", "--network", "slirp4netns", "alpine", "cat", "/etc/hosts"]);
      expectExit(plain, 0);
      expect(plain.stdout, "without allow_host_loopback slirp4netns gives no host address").not.toContain("host.containers.internal");
    } finally {
      srv.stop(true);
    }
  });

  N("invalid -p and --network values are refused before anything is made", async () => {
    for (const [args, mention] of [
      [["-p", "99999:80"], "99999"],
      [["-p", "8080-8082:80-81"], "differ in length"],
      [["-p", "80/sctp"], "sctp"],
      [["--network", "none", "-p", "8080:80"], "--network none"],
      [["--network", "slirp4netns:bogus=1"], "bogus"],
      [["--network", "container:x"], "no such container"],
      [["--network", "ns:relative"], "absolute path"],
    ] as const) {
      const r = await runPod(["run", "--rm", ...args, "alpine", "true"]);
      expectPodError(r, mention);
    }
  });
});

describe("/etc/hosts and /etc/resolv.conf", () => {
  N("--dns, --dns-search, --dns-option shape resolv.conf; --add-host, --hostname and --name shape hosts", async () => {
    const name = safeName("h");
    const r = await runPod(["run", "--rm", "--name", name, "--hostname", "box", "--dns", "10.9.9.9", "--dns-search", "example.test", "--dns-option", "ndots:2", "--add-host", "db:10.1.2.3", "--add-host", "gw:host-gateway", "alpine", "sh", "-c", "cat /etc/resolv.conf; echo ---; cat /etc/hosts"]);
    expectExit(r, 0);
    const [resolv, hosts] = r.stdout.split("---\n");
    expect(resolv).toBe("search example.test\nnameserver 10.9.9.9\noptions ndots:2\n");
    expect(hosts).toMatch(/^10\.1\.2\.3\tdb$/m);
    expect(hosts).toMatch(/^\S+\tgw$/m);
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost/m);
    expect(hosts).toMatch(/\thost\.containers\.internal host\.docker\.internal$/m);
    expect(hosts).toMatch(new RegExp(`^127\\.0\\.1\\.1\\tbox ${name}$`, "m"));
    const none = await runPod(["run", "--rm", "--dns", "none", "alpine", "cat", "/etc/resolv.conf"]);
    expectExit(none, 0);
    expect(none.stdout).not.toContain("nameserver");
  });

  N("--no-hosts keeps the image's /etc/hosts", async () => {
    const r = await runPod(["run", "--rm", "--no-hosts", "--add-host", "db:10.1.2.3", "alpine", "cat", "/etc/hosts"]);
    expectExit(r, 0);
    expect(r.stdout).not.toContain("host.containers.internal");
    expect(r.stdout).not.toContain("10.1.2.3");
  });

  N("containers.conf's [containers] dns_servers, dns_searches, dns_options and no_hosts apply when no flag says otherwise", async () => {
    const file = join(pod().home, ".config", "containers", "containers.conf");
    writeFileSync(file, '[containers]\ndns_servers = ["10.7.7.7"]\ndns_searches = ["conf.test"]\ndns_options = ["ndots:3"]\nno_hosts = true\n');
    try {
      const r = await runPod(["run", "--rm", "alpine", "sh", "-c", "cat /etc/resolv.conf; echo ---; cat /etc/hosts"]);
      expectExit(r, 0);
      const [resolv, hosts] = r.stdout.split("---\n");
      expect(resolv).toBe("search conf.test\nnameserver 10.7.7.7\noptions ndots:3\n");
      expect(hosts).not.toContain("host.containers.internal");
      const flags = await runPod(["run", "--rm", "--dns", "10.8.8.8", "alpine", "cat", "/etc/resolv.conf"]);
      expect(flags.stdout).toContain("nameserver 10.8.8.8\n");
      expect(flags.stdout).not.toContain("10.7.7.7");
    } finally {
      writeFileSync(file, "");
    }
  });
});

describe("helper failures", () => {
  N("a helper that cannot start: its own message, a hint, exit 125, no container left and nothing running", async () => {
    const name = safeName("bad");
    const r = await runPod(["run", "-d", "--name", name, "--network", "pasta:--no-such-pasta-option", "alpine", "sleep", "100"]);
    expectPodError(r, "pasta", "no-such-pasta-option");
    expect(r.stderr).toMatch(/\nHint: /);
    expect((await runPod(["ps", "-a", "--format", "{{.Names}}"])).stdout).not.toContain(name);
    expect(monitorsOf(name)).toEqual([]);
  });

  N("a helper killed mid-run: the container goes on without a network, and rm -f still cleans up everything", async () => {
    const name = safeName("hk");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const [helper] = helpersOf(pid);
    process.kill(helper!, "SIGKILL");
    await until("the helper to die", () => !alive(helper!), 5_000);
    expectExit(await runPod(["exec", name, "true"]), 0);
    expectExit(await runPod(["rm", "-f", name]), 0);
    await until("the container to end", () => !alive(pid), 5_000);
    expect(monitorsOf(id)).toEqual([]);
  });
});

describe("helpers never outlive their container", () => {
  N("-p through slirp4netns: pod's forwarder carries 16 MiB each way intact, with half-close; it and its connections end with the container and with a monitor killed with -9", async () => {
    const [up, down, idle] = [await freePort(), await freePort(), await freePort()];
    const name = safeName("fw");
    const id = await runD(name, [
      "--network", "slirp4netns",
      "-p", `127.0.0.1:${up}:80`, "-p", `127.0.0.1:${down}:81`, "-p", `127.0.0.1:${idle}:82`,
      "alpine", "sh", "-c",
      "while true; do nc -l -p 80 -e sha256sum; done & while true; do nc -l -p 81 -e head -c 16777216 /dev/zero; done & while true; do nc -l -p 82 -e sleep 1000; done",
    ]);
    const blob = randomBytes(16 << 20);
    let reply = "";
    await until("the upload server to answer", async () => {
      reply = (await exchange(up, blob).catch(() => Buffer.alloc(0))).toString();
      return reply !== "";
    });
    expect(reply.trim()).toBe(`${createHash("sha256").update(blob).digest("hex")}  -`);
    const zeros = await exchange(down, new Uint8Array(0));
    expect(zeros.length).toBe(16 << 20);
    expect(zeros.every((b) => b === 0)).toBe(true);
    const monitor = monitorsOf(id)[0]!;
    const [forwarder] = childrenNamed(monitor, "pod-port-fwd");
    expect(forwarder, "the monitor's port forwarder").toBeDefined();
    // a connection that stays open: its own child of the forwarder
    const held = netConnect({ host: "127.0.0.1", port: idle });
    held.on("error", () => {});
    await until("a connection child", () => childrenNamed(forwarder!, "pod-port-fwd").length > 0);
    const [conn] = childrenNamed(forwarder!, "pod-port-fwd");
    process.kill(monitor, "SIGKILL");
    await until("the forwarder to die with the monitor", () => !alive(forwarder!), 5_000);
    await until("its connection to die with it", () => !alive(conn!), 5_000);
    held.destroy();
    track(name);
    // and after rm -f of a running one
    const again = safeName("fw2");
    const id2 = await runD(again, ["--network", "slirp4netns", "-p", `127.0.0.1:${await freePort()}:80`, "alpine", "sleep", "1000"]);
    const [fwd2] = childrenNamed(monitorsOf(id2)[0]!, "pod-port-fwd");
    expect(fwd2).toBeDefined();
    expectExit(await runPod(["rm", "-f", again]), 0);
    await until("the forwarder to end with its container", () => !alive(fwd2!), 5_000);
  });

  N("after the monitor is killed with -9 the helper is gone too; after a foreground run as well", async () => {
    const name = safeName("k");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const [helper] = helpersOf(pid);
    expect(helper).toBeDefined();
    process.kill(monitorsOf(id)[0]!, "SIGKILL");
    await until("the container to die with its monitor", () => !alive(pid), 5_000);
    await until("its helper to die with the monitor", () => !alive(helper!), 5_000);
    track(name);
    const before = new Set(readdirSync("/proc"));
    const r = await runPod(["run", "--rm", "alpine", "true"]);
    expectExit(r, 0);
    await sleep(200);
    const left = readdirSync("/proc").filter((n) => /^\d+$/.test(n) && !before.has(n)).filter((n) => {
      try {
        // pasta's -P names its pid file in this suite's runtime dir: other suites' helpers are not ours
        const argv = readFileSync(`/proc/${n}/cmdline`, "utf8");
        return /pasta/.test(argv) && argv.includes(pod().runtimeDir);
      } catch {
        return false;
      }
    });
    expect(left, "no helper left after a foreground run").toEqual([]);
  });
});
