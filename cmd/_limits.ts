// The resource limit flags of run, create and update, with podman's names;
// pkg/cgroup/limits.ts validates the values.
import type { PodArgs } from "./_args.ts";
import type { LimitFlags } from "../pkg/cgroup/index.ts";

/** The limits `pod update` changes on a running container (podman 4.x's update flags). */
export const updateLimitArgs = {
  memory: { type: "string", alias: "m", description: "Memory limit (a number with an optional unit b, k, m or g)", valueHint: "size" },
  "memory-swap": { type: "string", description: "Memory plus swap limit (a size; -1: unlimited swap; default: twice --memory)", valueHint: "size" },
  "memory-reservation": { type: "string", description: "Memory soft limit (memory.low)", valueHint: "size" },
  "memory-swappiness": { type: "string", description: "Memory swappiness 0-100 (cgroup v1 only: refused here)", valueHint: "n" },
  cpus: { type: "string", description: "Number of CPUs (e.g. 1.5: a CFS quota of 150000 per 100000 period)", valueHint: "n" },
  "cpu-shares": { type: "string", alias: "c", description: "CPU shares, relative weight (cgroup v2 cpu.weight as crun maps it)", valueHint: "shares" },
  "cpu-quota": { type: "string", description: "Limit the CPU CFS quota (microseconds per period)", valueHint: "us" },
  "cpu-period": { type: "string", description: "Limit the CPU CFS period (microseconds)", valueHint: "us" },
  "cpuset-cpus": { type: "string", description: "CPUs in which to allow execution (0-3, 0,1)", valueHint: "cpus" },
  "cpuset-mems": { type: "string", description: "Memory nodes in which to allow execution (0-3, 0,1)", valueHint: "nodes" },
  "pids-limit": { type: "string", description: "Tune the container's pids limit (-1: unlimited; default 2048 where pids is delegated)", valueHint: "n" },
  "blkio-weight": { type: "string", description: "Block IO relative weight, 10 to 1000", valueHint: "weight" },
  "device-read-bps": { type: "string", multiple: true, description: "Limit read rate from a device (PATH:RATE, e.g. /dev/sda:1mb)", valueHint: "path:rate" },
  "device-write-bps": { type: "string", multiple: true, description: "Limit write rate to a device (PATH:RATE)", valueHint: "path:rate" },
  "device-read-iops": { type: "string", multiple: true, description: "Limit read operations per second from a device (PATH:N)", valueHint: "path:n" },
  "device-write-iops": { type: "string", multiple: true, description: "Limit write operations per second to a device (PATH:N)", valueHint: "path:n" },
} satisfies PodArgs;

export const limitArgs = {
  ...updateLimitArgs,
  "oom-kill-disable": { type: "boolean", description: "Disable the OOM killer (cgroup v1 only: refused here)" },
  "oom-score-adj": { type: "string", description: "Tune the host's OOM preferences for the container (-1000 to 1000)", valueHint: "n" },
  cgroups: { type: "string", description: "Cgroup mode: enabled (the default), disabled (no cgroup: no limits, no pause), no-conmon (the monitor stays in your cgroup), split (below pod's own cgroup)", valueHint: "enabled|disabled|no-conmon|split" },
  "cgroup-parent": { type: "string", description: "Cgroup the container's cgroup is made in (below your delegated subtree)", valueHint: "path" },
  "cgroup-conf": { type: "string", multiple: true, description: "Write a cgroup v2 file of the container's cgroup: KEY=VALUE (e.g. memory.high=1g)", valueHint: "key=value" },
} satisfies PodArgs;

/** The limit flags given, as typed. */
export function limitFlags(args: Record<string, unknown>): LimitFlags {
  const s = (k: string) => args[k] as string | undefined;
  const l = (k: string) => (args[k] as string[] | undefined) ?? [];
  return {
    memory: s("memory"),
    memorySwap: s("memory-swap"),
    memoryReservation: s("memory-reservation"),
    memorySwappiness: s("memory-swappiness"),
    oomKillDisable: Boolean(args["oom-kill-disable"]),
    oomScoreAdj: s("oom-score-adj"),
    cpus: s("cpus"),
    cpuShares: s("cpu-shares"),
    cpuQuota: s("cpu-quota"),
    cpuPeriod: s("cpu-period"),
    cpusetCpus: s("cpuset-cpus"),
    cpusetMems: s("cpuset-mems"),
    pidsLimit: s("pids-limit"),
    blkioWeight: s("blkio-weight"),
    deviceReadBps: l("device-read-bps"),
    deviceWriteBps: l("device-write-bps"),
    deviceReadIops: l("device-read-iops"),
    deviceWriteIops: l("device-write-iops"),
    cgroups: s("cgroups"),
    cgroupParent: s("cgroup-parent"),
    cgroupConf: l("cgroup-conf"),
  };
}
