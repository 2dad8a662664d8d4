// User networks, rootless: `pod network` create/ls/inspect/exists/rm/prune
// with podman's output and exit codes, and containers on one network
// reaching each other by name (DNS, not /etc/hosts) while another network
// and the outside of an internal one stay out of reach. The shared
// namespace's keeper and its pasta end with the last container.
// Traffic stays inside the namespaces the tests create.
import { describe } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName, POD } from "./helpers.ts";
import { freePort, sleep } from "../fixtures/proc.ts";
import { createSocket } from "node:dgram";
import { useLifecycle, runD, until, alive } from "./lifecycle-helpers.ts";

useSuite("560-user-networks");
useLifecycle();

const N = requires("subuid", "alpine-fixture", "tun");
const T = requires("subuid");

const stateDir = () => join(pod().runtimeDir, "pod", "networks");
function keeperState(): { pid: number; helper?: { pid: number } } | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir(), "keeper.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** What a TCP server on 127.0.0.1:port sends before it closes, retrying while it starts. */
async function readTcp(port: number, timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await new Promise<string | null>((resolve) => {
      let data = "";
      Bun.connect({ hostname: "127.0.0.1", port, socket: { data(_s, d) { data += new TextDecoder().decode(d); }, close() { resolve(data || null); }, error() { resolve(null); }, connectError() { resolve(null); } } }).catch(() => resolve(null));
    });
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`nothing came from 127.0.0.1:${port}`);
    await sleep(100);
  }
}

const SERVE = (text: string) => ["sh", "-c", `while true; do echo ${text} | nc -l -p 80; done`];
/** A shell loop that retries a connection while the server starts. */
const fetchFrom = (host: string) => `for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${host} 80 </dev/null && exit 0; sleep 0.3; done; exit 1`;

describe("pod network", () => {
  T("create, ls, inspect, exists and rm with podman's output and exit codes", async () => {
    const net = safeName("n");
    const c = await runPod(["network", "create", "--subnet", "10.89.77.0/24", "--label", "app=web", net]);
    expectExit(c, 0);
    expect(c.stdout).toBe(`${net}\n`);
    const ls = await runPod(["network", "ls"]);
    expect(lines(ls.stdout)[0]).toMatch(/^NETWORK ID +NAME +DRIVER$/);
    expect(ls.stdout).toMatch(/^2f259bab93aa +podman +bridge$/m);
    expect(ls.stdout).toMatch(new RegExp(`^[0-9a-f]{12} +${net} +bridge$`, "m"));
    expect((await runPod(["network", "ls", "-q", "--filter", "label=app=web"])).stdout).toBe(`${net}\n`);
    const inspect = JSON.parse((await runPod(["network", "inspect", net])).stdout);
    expect(inspect[0]).toMatchObject({ name: net, driver: "bridge", subnets: [{ subnet: "10.89.77.0/24", gateway: "10.89.77.1" }], internal: false, dns_enabled: true, labels: { app: "web" } });
    expect(inspect[0].id).toMatch(/^[0-9a-f]{64}$/);
    expect((await runPod(["network", "inspect", "--format", "{{.Name}} {{.Driver}}", net])).stdout).toBe(`${net} bridge\n`);
    expectExit(await runPod(["network", "exists", net]), 0);
    expectExit(await runPod(["network", "exists", "no-such-net"]), 1);
    const dup = await runPod(["network", "create", net]);
    expectPodError(dup, "network already exists");
    expectExit(await runPod(["network", "create", "--ignore", net]), 0);
    expectPodError(await runPod(["network", "create", "--subnet", "10.89.77.128/25", safeName("o")]), "already used");
    expectPodError(await runPod(["network", "create", "bad/name"]), "invalid");
    const missing = await runPod(["network", "rm", "no-such-net"]);
    expectExit(missing, 1);
    expect(missing.stderr).toContain("unable to find network with name or ID no-such-net: network not found");
    expectPodError(await runPod(["network", "rm", "podman"]), "cannot be removed");
    const rm = await runPod(["network", "rm", net]);
    expectExit(rm, 0);
    expect(rm.stdout).toBe(`${net}\n`);
    expectExit(await runPod(["network", "exists", net]), 1);
  });

  T("run --network with a network that does not exist is refused before anything is recorded", async () => {
    const name = safeName("x");
    const r = await runPod(["run", "--rm", "--name", name, "--network", "no-such-net", "alpine", "true"]);
    expectExit(r, 125);
    expect(r.stderr).toContain("unable to find network with name or ID no-such-net: network not found");
    expect((await runPod(["ps", "-a", "-q", "--filter", `name=${name}`])).stdout).toBe("");
  });
});

describe("containers on user networks", () => {
  N("find each other by name over DNS and talk TCP; another network neither resolves nor reaches them", async () => {
    const net = safeName("front");
    const other = safeName("back");
    expectExit(await runPod(["network", "create", net]), 0);
    expectExit(await runPod(["network", "create", other]), 0);
    const web = safeName("web");
    await runD(web, ["--network", net, "alpine", ...SERVE("hello-by-name")]);
    const ip = (await runPod(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", web])).stdout.trim();
    expect(JSON.parse((await runPod(["inspect", "--format", "{{json .NetworkSettings.Networks}}", web])).stdout)[net].IPAddress).toBe(ip);
    expect(ip).toMatch(/^10\.89\.\d+\.\d+$/);
    // nslookup asks the DNS server in resolv.conf, never /etc/hosts
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `cat /etc/resolv.conf; nslookup ${web}; ${fetchFrom(web)}`]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^search dns\.podman/m);
    expect(r.stdout).toContain(`Address: ${ip}`);
    expect(r.stdout).toContain("hello-by-name");
    const far = await runPod(["run", "--rm", "--network", other, "alpine", "sh", "-c", `nslookup ${web} >/dev/null 2>&1 && echo resolved; nc -w 2 ${ip} 80 </dev/null && echo reached; true`]);
    expectExit(far, 0);
    expect(far.stdout).not.toContain("resolved");
    expect(far.stdout).not.toContain("reached");
    // a container started later is found from the first one
    const late = safeName("late");
    await runD(late, ["--network", net, "alpine", ...SERVE("hello-late")]);
    const back = await runPod(["exec", web, "sh", "-c", fetchFrom(late)]);
    expectExit(back, 0);
    expect(back.stdout).toContain("hello-late");
  });

  N("--network-alias answers too; after restart its peers still find it", async () => {
    const net = safeName("al");
    expectExit(await runPod(["network", "create", net]), 0);
    const db = safeName("db");
    await runD(db, ["--network", net, "--network-alias", "database", "alpine", ...SERVE("hello-alias")]);
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", fetchFrom("database")]);
    expectExit(r, 0);
    expect(r.stdout).toContain("hello-alias");
    // DNS over TCP too: a query for "database" with its 2-byte length, the answer's last 4 bytes are the address
    const name = [8, ..."database".split("").map((c) => c.charCodeAt(0)), 0];
    const query = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1];
    const wire = [query.length >> 8, query.length & 255, ...query].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
    const ip = (await runPod(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", db])).stdout.trim();
    const tcp = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `gw=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf); printf '${wire}' | nc -w 2 $gw 53 | od -An -tu1 | tr -s ' \\n' ' '`]);
    expectExit(tcp, 0);
    expect(tcp.stdout.trim().split(" ").slice(-4).join(".")).toBe(ip);
    expectExit(await runPod(["restart", "-t", "0", db]), 0);
    const again = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", fetchFrom(db)]);
    expectExit(again, 0);
    expect(again.stdout).toContain("hello-alias");
    expectPodError(await runPod(["run", "--rm", "--network-alias", "x", "alpine", "true"]), "only be used with user networks");
  });

  N("-p (TCP and UDP) to a container on a user network, detached and in the foreground; the port closes with the container", async () => {
    const net = safeName("pub");
    expectExit(await runPod(["network", "create", net]), 0);
    const port = await freePort();
    const name = safeName("p");
    await runD(name, ["--network", net, "-p", `127.0.0.1:${port}:80`, "alpine", ...SERVE("hello-published")]);
    expect(await readTcp(port)).toBe("hello-published\n");
    expect((await runPod(["port", name])).stdout).toContain(`80/tcp -> 127.0.0.1:${port}`);
    // UDP: datagrams from the host reach a sink in the container
    const udp = await freePort();
    const sink = safeName("u");
    await runD(sink, ["--network", net, "-p", `127.0.0.1:${udp}:81/udp`, "alpine", "sh", "-c", "nc -u -l -p 81 > /tmp/udp-got"]);
    const s = createSocket("udp4");
    try {
      for (let i = 0; i < 50; i++) {
        await new Promise<void>((resolve) => s.send("hello-udp", udp, "127.0.0.1", () => resolve()));
        await sleep(150);
        if ((await runPod(["exec", sink, "cat", "/tmp/udp-got"])).stdout.includes("hello-udp")) break;
      }
    } finally {
      s.close();
    }
    expect((await runPod(["exec", sink, "cat", "/tmp/udp-got"])).stdout).toContain("hello-udp");
    expectExit(await runPod(["rm", "-f", name, sink]), 0);
    expect(await readTcp(port, 500).catch(() => "closed")).toBe("closed");
    const fg = await freePort();
    const run = Bun.spawn([POD, "run", "--rm", "--network", net, "-p", `127.0.0.1:${fg}:80`, "alpine", "sh", "-c", "echo hello-foreground | nc -l -p 80"], { env: pod().env, stdout: "pipe", stderr: "pipe" });
    expect(await readTcp(fg)).toBe("hello-foreground\n");
    expect(await run.exited).toBe(0);
  });

  N("--ip and --network NAME:ip=…,alias=… choose the address and more names; a taken address is refused", async () => {
    const net = safeName("ip");
    expectExit(await runPod(["network", "create", "--subnet", "10.89.123.0/24", net]), 0);
    const a = safeName("a");
    await runD(a, ["--network", net, "--ip", "10.89.123.50", "alpine", ...SERVE("hello-fixed")]);
    expect((await runPod(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", a])).stdout.trim()).toBe("10.89.123.50");
    const b = safeName("b");
    await runD(b, ["--network", `${net}:ip=10.89.123.60,alias=second`, "alpine", ...SERVE("hello-second")]);
    expect((await runPod(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", b])).stdout.trim()).toBe("10.89.123.60");
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `nslookup second; ${fetchFrom("second")}`]);
    expectExit(r, 0);
    expect(r.stdout).toContain("Address: 10.89.123.60");
    expect(r.stdout).toContain("hello-second");
    expectPodError(await runPod(["run", "--rm", "--network", net, "--ip", "10.89.123.50", "alpine", "true"]), "already allocated");
    expectPodError(await runPod(["run", "--rm", "--network", net, "--ip", "10.1.2.3", "alpine", "true"]), "not in the range");
    expectPodError(await runPod(["run", "--rm", "--ip", "10.1.2.3", "alpine", "true"]), "only be used with user networks");
  });

  N("--mac-address, NAME:mac=… and network connect --mac-address set the container's MAC; inspect shows it, and a derived one otherwise; bad ones are refused", async () => {
    const [n1, n2] = [safeName("mac"), safeName("mac2")];
    expectExit(await runPod(["network", "create", "--subnet", "10.89.125.0/24", n1]), 0);
    expectExit(await runPod(["network", "create", "--subnet", "10.89.126.0/24", n2]), 0);
    const macOf = async (ctr: string, dev: string) => /link\/ether ([0-9a-f:]+)/.exec((await runPod(["exec", ctr, "ip", "link", "show", dev])).stdout)?.[1];
    const a = safeName("a");
    await runD(a, ["--network", n1, "--mac-address", "92:d0:c6:0a:29:33", "alpine", "sleep", "1000"]);
    expect(await macOf(a, "eth0")).toBe("92:d0:c6:0a:29:33");
    const ins = await runPod(["inspect", "--format", "{{.NetworkSettings.MacAddress}} {{json .NetworkSettings.Networks}}", a]);
    expectExit(ins, 0);
    expect(ins.stdout.split(" ")[0]).toBe("92:d0:c6:0a:29:33");
    expect(JSON.parse(ins.stdout.slice(ins.stdout.indexOf(" ")))[n1].MacAddress).toBe("92:d0:c6:0a:29:33");
    expectExit(await runPod(["network", "connect", "--mac-address", "92:d0:c6:0a:29:44", n2, a]), 0);
    expect(await macOf(a, "eth1")).toBe("92:d0:c6:0a:29:44");
    const b = safeName("b");
    await runD(b, ["--network", `${n1}:mac=02:11:22:33:44:55,ip=10.89.125.77`, "alpine", "sleep", "1000"]);
    expect(await macOf(b, "eth0")).toBe("02:11:22:33:44:55");
    const c = safeName("c");
    await runD(c, ["--network", n1, "alpine", "sleep", "1000"]);
    const derived = (await runPod(["inspect", "--format", "{{.NetworkSettings.MacAddress}}", c])).stdout.trim();
    expect(derived).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(await macOf(c, "eth0")).toBe(derived);
    expectExit(await runPod(["restart", "-t", "0", c]), 0);
    expect(await macOf(c, "eth0"), "the same MAC after a restart").toBe(derived);
    expectPodError(await runPod(["run", "--rm", "--network", n1, "--mac-address", "01:00:5e:00:00:01", "alpine", "true"]), "not a unicast MAC");
    expectPodError(await runPod(["run", "--rm", "--network", `${n1}:mac=zz`, "alpine", "true"]), "malformed option");
    expectPodError(await runPod(["run", "--rm", "--mac-address", "92:d0:c6:0a:29:33", "alpine", "true"]), "only be used with user networks");
  });

  // (no name is looked up here: without the responder a query would go to the host's resolvers, outside the machine)
  N("--opt mtu= and metric= shape the container's interface and default route, interface_name= names it; isolate=true is taken; other options are refused", async () => {
    const net = safeName("opt");
    expectExit(await runPod(["network", "create", "--opt", "mtu=1400", "-o", "metric=55", "--opt", "isolate=true", "--subnet", "10.89.127.0/24", net]), 0);
    expect(JSON.parse((await runPod(["network", "inspect", net])).stdout)[0].options).toEqual({ mtu: "1400", metric: "55", isolate: "true" });
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", "cat /sys/class/net/eth0/mtu; ip route show default"]);
    expectExit(r, 0);
    expect(r.stdout.split("\n")[0]).toBe("1400");
    expect(r.stdout).toMatch(/default via 10\.89\.127\.1 dev eth0 +metric 55/);
    // interface_name= names the container's side
    const named = await runPod(["run", "--rm", "--network", `${net}:interface_name=lan7`, "alpine", "sh", "-c", "ip -o addr show lan7; ip route show default"]);
    expectExit(named, 0);
    expect(named.stdout).toContain("inet 10.89.127.");
    expect(named.stdout).toMatch(/default via 10\.89\.127\.1 dev lan7/);
    expectPodError(await runPod(["run", "--rm", "--network", `${net}:interface_name=a/b`, "alpine", "true"]), "malformed option");
    for (const [opt, text] of [["isolate=false", "isolate=false"], ["mtu=big", "mtu"], ["vlan=5", "unsupported bridge network option vlan"]] as const) {
      const bad = await runPod(["network", "create", "--opt", opt, safeName("bad")]);
      expectPodError(bad, text);
    }
  });

  N("--ipv6: a unique local /64 beside the IPv4 subnet; containers get both addresses, talk over IPv6 and resolve each other's AAAA", async () => {
    const net = safeName("v6");
    expectExit(await runPod(["network", "create", "--ipv6", "--subnet", "10.89.128.0/24", net]), 0);
    const rec = JSON.parse((await runPod(["network", "inspect", net])).stdout)[0];
    expect(rec.ipv6_enabled).toBe(true);
    expect(rec.subnets[1].subnet).toMatch(/^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){3}::\/64$/);
    const web = safeName("web");
    await runD(web, ["--network", net, "alpine", "sh", "-c", "while true; do echo hello-v6 | nc -l -s :: -p 80; done"]);
    const ins = JSON.parse((await runPod(["inspect", web])).stdout)[0].NetworkSettings.Networks[net];
    expect(ins.GlobalIPv6Address.startsWith(rec.subnets[1].subnet.replace("::/64", "::"))).toBe(true);
    expect(ins.GlobalIPv6PrefixLen).toBe(64);
    expect(ins.IPv6Gateway).toBe(rec.subnets[1].gateway);
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c",
      `ip -6 -o addr show dev eth0 scope global; ip -6 route show default; nslookup -type=AAAA ${web}; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${ins.GlobalIPv6Address} 80 </dev/null && exit 0; sleep 0.3; done; exit 1`]);
    expectExit(r, 0);
    expect(r.stdout).toContain(`inet6 ${rec.subnets[1].subnet.replace("::/64", "::")}`);
    expect(r.stdout).toContain(`default via ${rec.subnets[1].gateway}`);
    expect(r.stdout).toContain(`Address: ${ins.GlobalIPv6Address}`);
    expect(r.stdout).toContain("hello-v6");
    expectPodError(await runPod(["network", "create", "--subnet", "fd00:1::/64", safeName("bad")]), "IPv6 subnet");
  });

  N("--disable-dns: no responder in resolv.conf", async () => {
    const net = safeName("nodns");
    expectExit(await runPod(["network", "create", "--disable-dns", "--subnet", "10.89.124.0/24", net]), 0);
    expect(JSON.parse((await runPod(["network", "inspect", net])).stdout)[0].dns_enabled).toBe(false);
    const a = safeName("a");
    await runD(a, ["--network", net, "alpine", "sleep", "1000"]);
    const r = await runPod(["exec", a, "cat", "/etc/resolv.conf"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^nameserver /m);
    expect(r.stdout).not.toContain("10.89.124.1");
    expect(r.stdout).not.toContain("dns.podman");
  });

  N("connect and disconnect of a running container change what it reaches and resolves", async () => {
    const a = safeName("na");
    const b = safeName("nb");
    expectExit(await runPod(["network", "create", a]), 0);
    expectExit(await runPod(["network", "create", b]), 0);
    const server = safeName("srv");
    await runD(server, ["--network", b, "alpine", ...SERVE("hello-connected")]);
    const client = safeName("cli");
    await runD(client, ["--network", a, "alpine", "sleep", "1000"]);
    const before = await runPod(["exec", client, "sh", "-c", `nslookup ${server} >/dev/null 2>&1 && echo resolved; true`]);
    expect(before.stdout).not.toContain("resolved");
    expectExit(await runPod(["network", "connect", b, client]), 0);
    const after = await runPod(["exec", client, "sh", "-c", `ip -o link show eth1 && ${fetchFrom(server)}`]);
    expectExit(after, 0);
    expect(after.stdout).toContain("hello-connected");
    expect(JSON.parse((await runPod(["inspect", "--format", "{{json .NetworkSettings.Networks}}", client])).stdout)).toHaveProperty(b);
    expectPodError(await runPod(["network", "connect", b, client]), "already connected");
    expectExit(await runPod(["network", "disconnect", b, client]), 0);
    const gone = await runPod(["exec", client, "sh", "-c", `ip -o link show eth1 2>/dev/null && echo still; nc -w 2 ${server} 80 </dev/null && echo reached; true`]);
    expect(gone.stdout).not.toContain("still");
    expect(gone.stdout).not.toContain("reached");
    expectPodError(await runPod(["network", "disconnect", a, client]), "only network");
  });

  N("an internal network has no route out; the keeper and its pasta end with the last container", async () => {
    const net = safeName("int");
    expectExit(await runPod(["network", "create", "--internal", net]), 0);
    const name = safeName("i");
    await runD(name, ["--network", net, "alpine", "sleep", "1000"]);
    const k = keeperState();
    expect(k?.pid, "a keeper runs while a container is on a network").toBeGreaterThan(0);
    expect(alive(k!.pid)).toBe(true);
    expect(alive(k!.helper!.pid)).toBe(true);
    const routes = await runPod(["exec", name, "ip", "route"]);
    expectExit(routes, 0);
    expect(routes.stdout).not.toMatch(/^default/m);
    // reload writes the namespace's rules again: a container that runs on the network is listed
    const reload = await runPod(["network", "reload", name]);
    expectExit(reload, 0);
    expect(reload.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expectPodError(await runPod(["network", "reload"]), "--all");
    const inUse = await runPod(["network", "rm", net]);
    expectExit(inUse, 2);
    expect(inUse.stderr).toContain("network is being used");
    const forced = await runPod(["network", "rm", "-f", net]);
    expectExit(forced, 0);
    expect((await runPod(["ps", "-a", "-q", "--filter", `name=${name}`])).stdout).toBe("");
    await until("the keeper to end after the last container", () => !alive(k!.pid), 10_000);
    await until("its pasta to end too", () => !alive(k!.helper!.pid), 5_000);
  });

  N("after kill -9 of the keeper the next command rebuilds the namespace: running containers are joined again and still found", async () => {
    const net = safeName("k");
    expectExit(await runPod(["network", "create", net]), 0);
    const a = safeName("a");
    await runD(a, ["--network", net, "alpine", ...SERVE("hello-again")]);
    const ip = (await runPod(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", a])).stdout.trim();
    const k = keeperState()!;
    process.kill(k.pid, "SIGKILL");
    await until("the keeper to die", () => !alive(k.pid), 5_000);
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `nslookup ${a}; ${fetchFrom(a)}`]);
    expectExit(r, 0);
    expect(r.stdout).toContain("hello-again");
    expect(r.stdout).toContain(`Address: ${ip}`);
    const k2 = keeperState();
    expect(k2?.pid).not.toBe(k.pid);
    expect(alive(k.helper!.pid), "the dead keeper's pasta was stopped").toBe(false);
    expectExit(await runPod(["rm", "-f", a]), 0);
    await until("the new keeper to end", () => !alive(k2!.pid), 10_000);
  });

  N("system reset -f ends the keeper and its pasta with the containers", async () => {
    const net = safeName("r");
    expectExit(await runPod(["network", "create", net]), 0);
    await runD(safeName("c"), ["--network", net, "alpine", "sleep", "1000"]);
    const k = keeperState()!;
    expectExit(await runPod(["system", "reset", "-f"]), 0);
    await until("the keeper to end at reset", () => !alive(k.pid), 5_000);
    await until("its pasta too", () => !alive(k.helper!.pid), 5_000);
    expectExit(await runPod(["network", "exists", net]), 1);
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  });
});
