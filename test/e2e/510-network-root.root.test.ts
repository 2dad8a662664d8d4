// pod as root: containers on the bridge pod0 with a veth pair each, an
// address from the lease file, nftables masquerade and DNAT for -p, and
// nothing left (interface, lease, rule) once the containers are gone: after
// rm, after the monitor is killed with -9, after system reset. test/run.sh
// runs *.root.test.ts as root. Traffic goes only to 127.0.0.1, to the
// containers' addresses and to a namespace this file makes ("another host").
import { describe } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, safeName, sh, POD } from "./helpers.ts";
import { useLifecycle, runD, inspectFmt, until, alive, monitorOf } from "./lifecycle-helpers.ts";
import { freePort } from "../fixtures/proc.ts";

useSuite("510-network-root");
useLifecycle();

const R = requires("root", "alpine-fixture");
const LEASES = "/run/pod/network/pod0.leases.json";

const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);
const vethOf = (id: string) => `veth${id.slice(0, 11)}`;
const leases = (): { id: string; ip: string }[] => (existsSync(LEASES) ? JSON.parse(readFileSync(LEASES, "utf8")) : []);
const ROOT_PATH = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const podTable = async () => (await sh(["nft", "list", "table", "inet", "pod"], ROOT_PATH)).stdout;

/** A TCP client: what the server at host:port sends before it closes, from the host or from inside netns. */
async function tcpRead(host: string, port: number, netns?: string): Promise<string> {
  const client = ["timeout", "5", "bash", "-c", `exec 3<>/dev/tcp/${host}/${port} && cat <&3`];
  const r = await sh(netns ? ["ip", "netns", "exec", netns, ...client] : client, ROOT_PATH);
  return r.stdout;
}

/** Retries tcpRead while the server in the container starts. */
async function tcpReadSoon(host: string, port: number, netns?: string): Promise<string> {
  let got = "";
  await until(`an answer from ${host}:${port}`, async () => (got = await tcpRead(host, port, netns)) !== "", 10_000);
  return got;
}

/** Nothing of pod's network is left: no pod0, no veth, no lease, no nftables table. */
async function expectNothingLeft(ids: string[]): Promise<void> {
  await until("the veth pairs to go with their namespaces", () => ids.every((id) => !linkExists(vethOf(id))), 5_000);
  expect(leases().filter((l) => ids.includes(l.id))).toEqual([]);
  if (leases().length === 0) {
    expect(linkExists("pod0")).toBe(false);
    expect(await podTable()).toBe("");
  }
}

// A server that answers each connection with what netstat sees of it: the client's address as the container sees it.
const PEER_SERVER = ["sh", "-c", 'printf "#!/bin/sh\\necho hello-root; netstat -tn | grep :80\\n" > /s; chmod +x /s; nc -lk -p 80 -e /s'];

describe("the bridge as root", () => {
  R("the default network is the bridge: eth0 with a lease, a default route, the hosts file names the container's address", async () => {
    const name = safeName("b");
    const id = await runD(name, ["alpine", "sleep", "100"]);
    const ip = await inspectFmt(name, "{{.NetworkSettings.IPAddress}}");
    expect(ip).toMatch(/^10\.88\.\d+\.\d+$/);
    expect(await inspectFmt(name, "{{.HostConfig.NetworkMode}}")).toBe("bridge");
    expect(await inspectFmt(name, "{{.NetworkSettings.Gateway}}")).toBe("10.88.0.1");
    expect(leases().find((l) => l.id === id)?.ip).toBe(ip);
    expect(linkExists("pod0")).toBe(true);
    expect(linkExists(vethOf(id))).toBe(true);
    const r = await runPod(["exec", name, "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/hosts"]);
    expectExit(r, 0);
    expect(r.stdout).toContain(`inet ${ip}/16`);
    expect(r.stdout).toMatch(/^default via 10\.88\.0\.1 dev eth0/m);
    expect(r.stdout).toMatch(new RegExp(`^${ip.replaceAll(".", "\\.")}\\t\\S+ ${name}$`, "m"));
    expect(r.stdout).toMatch(/^10\.88\.0\.1\thost\.containers\.internal/m);
    expect(await podTable()).toContain("masquerade");
    expectExit(await runPod(["rm", "-f", "-t", "0", name]), 0);
    await expectNothingLeft([id]);
  });

  R("two containers get their own addresses and reach each other; a host server on the gateway is host.containers.internal", async () => {
    const a = safeName("a");
    const b = safeName("b");
    const ida = await runD(a, ["alpine", ...PEER_SERVER]);
    const idb = await runD(b, ["alpine", "sleep", "100"]);
    const [ipa, ipb] = [await inspectFmt(a, "{{.NetworkSettings.IPAddress}}"), await inspectFmt(b, "{{.NetworkSettings.IPAddress}}")];
    expect(ipa).not.toBe(ipb);
    let r = await runPod(["exec", b, "sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${ipa} 80 </dev/null && exit 0; sleep 0.3; done; exit 1`]);
    expectExit(r, 0);
    expect(r.stdout).toContain("hello-root");
    expect(r.stdout).toContain(ipb); // the peer's own address: no NAT between containers
    const port = await freePort();
    const server = Bun.listen({ hostname: "10.88.0.1", port, socket: { open: (s) => void s.end("hello-host\n"), data() {} } });
    try {
      r = await runPod(["exec", b, "nc", "-w", "3", "host.containers.internal", String(port)]);
      expectExit(r, 0);
      expect(r.stdout).toBe("hello-host\n");
    } finally {
      server.stop(true);
    }
    expectExit(await runPod(["rm", "-f", "-t", "0", a, b]), 0);
    await expectNothingLeft([ida, idb]);
  });
});

describe("published ports as root: nftables DNAT", () => {
  R("-p reaches the container from the host's loopback and from another host, which keeps its own source address; UDP too", async () => {
    const [tcp, any, udp] = [await freePort(), await freePort(), await freePort()];
    const name = safeName("p");
    const id = await runD(name, ["-p", `127.0.0.1:${tcp}:80`, "-p", `${any}:80`, "-p", `${udp}:81/udp`, "alpine", "sh", "-c", `nc -lu -p 81 > /tmp/udp-got & ${PEER_SERVER[2]}`]);
    expect((await runPod(["port", name])).stdout).toContain(`80/tcp -> 127.0.0.1:${tcp}`);
    const table = await podTable();
    expect(table).toContain(`ip daddr 127.0.0.1 tcp dport ${tcp} dnat ip to`);
    expect(table).toContain(`udp dport ${udp} dnat ip to`);
    const local = await tcpReadSoon("127.0.0.1", tcp);
    expect(local).toContain("hello-root");
    // "another host": a namespace of this test's, joined to the host by a veth of its own
    const ns = `podt${process.pid}`;
    const hostEnd = `podth${process.pid}`.slice(0, 15);
    expect((await sh(["ip", "netns", "add", ns], ROOT_PATH)).code).toBe(0);
    try {
      for (const cmd of [
        ["ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns],
        ["ip", "addr", "add", "10.199.0.1/30", "dev", hostEnd],
        ["ip", "link", "set", hostEnd, "up"],
        ["ip", "-n", ns, "addr", "add", "10.199.0.2/30", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
      ])
        expect((await sh(cmd, ROOT_PATH)).code, cmd.join(" ")).toBe(0);
      const remote = await tcpReadSoon("10.199.0.1", any, ns);
      expect(remote).toContain("hello-root");
      expect(remote).toContain("10.199.0.2:"); // the client's real address, not the gateway's
      // 127.0.0.1 only: not published on the host's other addresses
      expect(await tcpRead("10.199.0.1", tcp, ns)).toBe("");
      await sh(["ip", "netns", "exec", ns, "bash", "-c", `echo hello-udp > /dev/udp/10.199.0.1/${udp}`], ROOT_PATH);
      await until("the datagram to reach the container", async () => (await runPod(["exec", name, "cat", "/tmp/udp-got"])).stdout.includes("hello-udp"), 5_000);
    } finally {
      await sh(["ip", "netns", "del", ns], ROOT_PATH);
      await sh(["ip", "link", "del", hostEnd], ROOT_PATH);
    }
    expectExit(await runPod(["rm", "-f", "-t", "0", name]), 0);
    await expectNothingLeft([id]);
    expect(await podTable()).not.toContain(`dport ${tcp}`);
  });

  R("a host port another container publishes is refused before the start, and leaves nothing", async () => {
    const port = await freePort();
    const first = safeName("f");
    await runD(first, ["-p", `${port}:80`, "alpine", "sleep", "100"]);
    const second = safeName("s");
    const r = await runPod(["run", "-d", "--name", second, "-p", `${port}:80`, "alpine", "sleep", "100"]);
    expectPodError(r, String(port), "already in use");
    expect(r.code).toBe(125);
    expect((await runPod(["ps", "-a", "--format", "{{.Names}}"])).stdout).not.toContain(second);
    expect(leases().length).toBe(1);
  });
});

describe("cleanup as root", () => {
  R("a monitor killed with -9: the next command drops the lease and the rules, and the bridge with the last one", async () => {
    const port = await freePort();
    const name = safeName("k");
    const id = await runD(name, ["-p", `127.0.0.1:${port}:80`, "alpine", "sleep", "100"]);
    const monitor = await monitorOf(id);
    process.kill(monitor, "SIGKILL");
    await until("the monitor to end", () => !alive(monitor), 5_000);
    // the container dies of its parent-death signal a moment later; its veth goes with its namespace
    await until("the container's veth to go", () => !linkExists(vethOf(id)), 5_000);
    expectExit(await runPod(["ps", "-a"]), 0);
    await expectNothingLeft([id]);
    expect(await inspectFmt(name, "{{.State.Status}}")).toBe("exited");
  });

  R("a foreground run leaves nothing; system reset leaves nothing", async () => {
    const r = await runPod(["run", "--rm", "alpine", "ip", "-o", "-4", "addr", "show", "eth0"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("inet 10.88.");
    expect(leases()).toEqual([]);
    const ids = [await runD(safeName("r"), ["alpine", "sleep", "100"]), await runD(safeName("r"), ["-p", `${await freePort()}:80`, "alpine", "sleep", "100"])];
    expectExit(await runPod(["system", "reset", "-f"]), 0);
    await expectNothingLeft(ids);
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  });
});

describe("rootless on a host without a usable external interface", () => {
  // Run from root: a network namespace with only lo is such a host (offline, at boot), and the unprivileged user's pod runs in it.
  const user = process.env.POD_TEST_UNPRIVILEGED_USER || "podtest";
  R("the default network falls back from pasta to slirp4netns, and --log-level debug says so", async () => {
    const ids = (await sh(["id", "-u", user])).stdout.trim();
    expect(ids, `the unprivileged test user ${user} exists (test/run.sh creates it)`).toMatch(/^\d+$/);
    const [uid, gid] = [Number(ids), Number((await sh(["id", "-g", user])).stdout.trim())];
    // under /tmp itself: the suite's temp dir is root's own (mode 0700)
    const dir = mkdtempSync("/tmp/pod-offline-");
    const ns = `podoff${process.pid}`;
    try {
      for (const d of ["home/.config/containers", "run"]) mkdirSync(join(dir, d), { recursive: true });
      copyFileSync(POD, join(dir, "pod"));
      copyFileSync(join(pod().configDir, "registries.conf"), join(dir, "home/.config/containers/registries.conf"));
      for (const p of [dir, join(dir, "home"), join(dir, "home/.config"), join(dir, "home/.config/containers"), join(dir, "home/.config/containers/registries.conf"), join(dir, "run"), join(dir, "pod")]) chownSync(p, uid, gid);
      chmodSync(join(dir, "run"), 0o700);
      const asUser = (args: string[]) => ["runuser", "-u", user, "--", "env", "-i", `HOME=${join(dir, "home")}`, `XDG_RUNTIME_DIR=${join(dir, "run")}`, "PATH=/usr/bin:/bin:/usr/sbin:/sbin", join(dir, "pod"), ...args];
      const pulled = await sh(asUser(["pull", "-q", "alpine"]), ROOT_PATH);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect((await sh(["ip", "netns", "add", ns], ROOT_PATH)).code).toBe(0);
      const r = await sh(["ip", "netns", "exec", ns, ...asUser(["--log-level", "debug", "run", "--rm", "alpine", "ip", "-o", "link"])], ROOT_PATH);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("tap0");
      expect(r.stderr).toMatch(/network: pasta failed \(.*\); using slirp4netns/);
      const explicit = await sh(["ip", "netns", "exec", ns, ...asUser(["run", "--rm", "--network", "pasta", "alpine", "true"])], ROOT_PATH);
      expect(explicit.code).toBe(125);
      expect(explicit.stderr).toMatch(/^Error: .*pasta/m);
      expect(explicit.stderr).toMatch(/^Hint: pasta found no usable external interface/m);
    } finally {
      await sh(["ip", "netns", "del", ns], ROOT_PATH);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("user networks as root", () => {
  R("bridges on the host with a table of their own: two containers find each other by name; another network neither resolves nor reaches them; the host reaches them; everything goes with the last one", async () => {
    const net = safeName("rn");
    const other = safeName("ro");
    expectExit(await runPod(["network", "create", net]), 0);
    expectExit(await runPod(["network", "create", other]), 0);
    const bridgeOf = async (n: string) => JSON.parse((await runPod(["network", "inspect", n])).stdout)[0].network_interface as string;
    const [bridge, otherBridge] = [await bridgeOf(net), await bridgeOf(other)];
    const web = safeName("w");
    await runD(web, ["--network", net, "alpine", "sh", "-c", "while true; do echo hello-root-net | nc -l -p 80; done"]);
    // the network is a bridge on the host, as netavark makes it, with its gateway address there
    expect(linkExists(bridge), `${bridge} on the host`).toBe(true);
    const webIp = JSON.parse((await runPod(["inspect", web])).stdout)[0].NetworkSettings.Networks[net].IPAddress as string;
    expect(await tcpReadSoon(webIp, 80), "the host reaches the container's address").toBe("hello-root-net\n");
    const table = (await sh(["nft", "list", "table", "inet", "pod_networks"], ROOT_PATH)).stdout;
    expect(table).toContain(`oifname "${bridge}" drop`);
    const r = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `nslookup ${web}; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${web} 80 </dev/null && exit 0; sleep 0.3; done; exit 1`]);
    expectExit(r, 0);
    expect(r.stdout).toContain("hello-root-net");
    const port = await freePort();
    const pub = safeName("pub");
    await runD(pub, ["--network", net, "-p", `127.0.0.1:${port}:80`, "alpine", "sh", "-c", "while true; do echo hello-root-published | nc -l -p 80; done"]);
    expect(await tcpReadSoon("127.0.0.1", port)).toBe("hello-root-published\n");
    // as root -p to a user network is a DNAT rule on the host, as netavark writes it: no forwarder process
    const pubIp = JSON.parse((await runPod(["inspect", pub])).stdout)[0].NetworkSettings.Networks[net].IPAddress as string;
    expect((await sh(["nft", "list", "table", "inet", "pod_networks"], ROOT_PATH)).stdout).toContain(`dnat ip to ${pubIp}:80`);
    expectPodError(await runPod(["run", "-d", "--network", net, "-p", `127.0.0.1:${port}:80`, "alpine", "sleep", "9"]), "already in use");
    const far = await runPod(["run", "--rm", "--network", other, "alpine", "sh", "-c", `nslookup ${web} >/dev/null 2>&1 && echo resolved; nc -w 2 ${webIp} 80 </dev/null && echo reached; true`]);
    expect(far.stdout).not.toContain("resolved");
    expect(far.stdout, "another network does not reach the container's address").not.toContain("reached");
    const state = JSON.parse(readFileSync(join(pod().runtimeDir, "pod", "networks", "keeper.json"), "utf8").toString());
    expect(alive(state.pid)).toBe(true);
    expect(state.helper, "as root the host routes: no outbound helper").toBeUndefined();
    // a keeper killed with -9: the containers keep their veths on the host; the next one gets a new keeper and finds them
    process.kill(state.pid, "SIGKILL");
    await until("the keeper to die", () => !alive(state.pid), 5_000);
    const again = await runPod(["run", "--rm", "--network", net, "alpine", "sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${web} 80 </dev/null && exit 0; sleep 0.3; done; exit 1`]);
    expectExit(again, 0);
    expect(again.stdout).toContain("hello-root-net");
    const fresh = JSON.parse(readFileSync(join(pod().runtimeDir, "pod", "networks", "keeper.json"), "utf8").toString());
    expect(fresh.pid).not.toBe(state.pid);
    expectExit(await runPod(["rm", "-f", "-a"]), 0);
    await until("the keeper to end after the last container", () => !alive(fresh.pid), 10_000);
    expect(linkExists(bridge), "the bridge goes with the last container").toBe(false);
    expect(linkExists(otherBridge)).toBe(false);
    expect((await sh(["nft", "list", "table", "inet", "pod_networks"], ROOT_PATH)).code, "and the table").not.toBe(0);
  });
});
