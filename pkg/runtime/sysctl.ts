// --sysctl KEY=VALUE, as podman validates it (pkg/util ValidateSysctls): only
// the sysctls of namespaces the container owns, which are the IPC ones
// (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) and net.* when the
// network namespace is its own. Each becomes a write under /proc/sys, made
// before /proc/sys is made read-only.
import { UsageError } from "../errors.ts";
import type { MountOp } from "../native/plan.ts";

const IPC_SYSCTLS = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);

/** What owns the network namespace: the container ("private"), the host, or another container/path. */
export function networkNsMode(network: string): "private" | "host" | "container" | "path" {
  if (network === "host") return "host";
  if (network.startsWith("container:")) return "container";
  if (network.startsWith("ns:")) return "path";
  return "private";
}

/** The --sysctl values as [key, value], checked; `network` is --network as given, `ipc` the --ipc mode's kind. */
export function parseSysctls(values: string[], network: string, ipcMode: string = "private"): [string, string][] {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`${v} is invalid, sysctl values must be in the form of KEY=VALUE`, { hint: "e.g. --sysctl net.ipv4.ping_group_range=0 2000" });
    const key = v.slice(0, eq);
    const value = v.slice(eq + 1);
    if (key.trim() !== key || value.trim() !== value) throw new UsageError(`'${v}' is invalid, extra spaces found`, { hint: "write --sysctl KEY=VALUE without spaces around the = sign" });
    const ipc = IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.");
    const net = key.startsWith("net.");
    if (!ipc && !net)
      throw new UsageError(`sysctl '${key}' is not allowed`, {
        hint: "only namespaced sysctls can be set: net.* (with a network namespace of the container's own), kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*",
      });
    if (ipc && ["host", "container", "ns"].includes(ipcMode))
      throw new UsageError(`sysctl ${key} can't be set since IPC Namespace set to ${ipcMode === "ns" ? "path" : ipcMode}`, {
        hint: "IPC sysctls need the container's own IPC namespace: drop --ipc host/container:…, or the --sysctl",
      });
    const mode = networkNsMode(network);
    if (net && mode !== "private")
      throw new UsageError(`sysctl ${key} can't be set since Network Namespace set to ${mode === "path" ? "path" : mode}`, {
        hint: "net.* sysctls need the container's own network namespace: drop --network host/container:…, or the --sysctl",
      });
    if (/[/\0]/.test(key) || key.split(".").some((p) => p === "" || p === ".."))
      throw new UsageError(`sysctl '${key}' is not allowed`, { hint: "a sysctl key is dotted, like net.ipv4.ip_forward" });
    out.set(key, value);
  }
  return [...out];
}

/** The writes under /proc/sys for the sysctls. */
export function sysctlOps(sysctls: [string, string][]): MountOp[] {
  return sysctls.map(([k, v]): MountOp => ({ op: "write", target: `/proc/sys/${k.replaceAll(".", "/")}`, data: v }));
}
