// The shapes podman prints for containers: `ps` rows (JSON and template
// fields) and `inspect`.
import { restartPolicyView } from "../engine/restart-policy.ts";
import { healthcheckView, healthView } from "../engine/health.ts";
import { formatPort, type PortMapping } from "../../network/mode.ts";
import { timeAgo } from "../../output/index.ts";
import type { ContainerRecord } from "./records.ts";
import { capabilityNames, computeCaps, parseUlimits, type RunOptions, type VolumeMount } from "../../runtime/index.ts";
import { inspectSecurityOpts } from "../../security/index.ts";
import { exitCodeOf, statusOf, statusText } from "./state.ts";
import type { Resources, ThrottleKind } from "../../cgroup/index.ts";

export function commandLine(rec: ContainerRecord): string {
  return rec.command.length ? rec.command.join(" ") : "";
}

/** `ps --size`: the container's own layer and its image's layers, in bytes (podman's define.ContainerSize). */
export type ContainerSize = { rootFsSize: number; rwSize: number };

/** `ps --ns`: the inode numbers of the first process's namespaces (podman's ListContainerNamespaces); empty when it is not running. */
export type ContainerNamespaces = { Cgroup: string; IPC: string; MNT: string; NET: string; PIDNS: string; User: string; UTS: string };

export function psRow(rec: ContainerRecord, now = Date.now(), noTrunc = false, size?: ContainerSize, namespaces?: ContainerNamespaces) {
  const status = statusOf(rec);
  const created = Date.parse(rec.created);
  const cmd = commandLine(rec);
  return {
    Id: rec.id,
    ID: noTrunc ? rec.id : rec.id.slice(0, 12),
    Names: [rec.name],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: rec.command,
    CommandText: noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`,
    Created: Math.floor(created / 1000),
    CreatedAt: rec.created,
    CreatedHuman: timeAgo(created, now),
    State: status,
    Status: statusText(rec, now),
    ExitCode: status === "exited" ? exitCodeOf(rec) : 0,
    Exited: status === "exited",
    ExitedAt: rec.finishedAt ? Math.floor(Date.parse(rec.finishedAt) / 1000) : 0,
    StartedAt: rec.startedAt ? Math.floor(Date.parse(rec.startedAt) / 1000) : 0,
    Pid: status === "running" || status === "paused" ? (rec.pid ?? 0) : 0,
    Ports: (rec.config?.opts.ports ?? []).map(formatPort),
    Labels: rec.config?.opts.labels ?? null,
    Mounts: [...(rec.config?.opts.volumes ?? []).map((v) => v.split(":")[1] ?? v), ...(rec.config?.opts.volumeMounts ?? []).map((v) => v.target)],
    AutoRemove: rec.config?.rm ?? false,
    // pod has no pods yet: podman's fields, empty
    Pod: "",
    PodName: "",
    ...(namespaces ? { Namespaces: namespaces } : {}),
    ...(size ? { Size: size } : {}),
  };
}

/** podman's `"80/tcp": [{HostIp, HostPort}]` shape of HostConfig.PortBindings and NetworkSettings.Ports. */
function portBindings(ports: PortMapping[] | undefined): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports ?? []) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return out;
}

const v6Fields = (n: { ip6?: string; gateway6?: string }) => ({ GlobalIPv6Address: n.ip6 ?? "", GlobalIPv6PrefixLen: n.ip6 ? 64 : 0, IPv6Gateway: n.gateway6 ?? "" });

/** A bridged container's address while it runs, in podman's fields; its network is podman's default, named "podman". */
function bridgeSettings(rec: ContainerRecord, running: boolean) {
  if (running && rec.networks?.length) {
    const first = rec.networks[0]!;
    const networks = Object.fromEntries(
      rec.networks.map((n) => [
        n.network,
        {
          NetworkID: n.network,
          IPAddress: n.ip,
          IPPrefixLen: n.prefix,
          Gateway: n.gateway,
          ...v6Fields(n),
          MacAddress: n.mac ?? "",
          Aliases: [rec.id.slice(0, 12), ...(rec.config?.opts.networkAlias ?? [])],
        },
      ]),
    );
    return { IPAddress: first.ip, IPPrefixLen: first.prefix, Gateway: first.gateway, ...v6Fields(first), MacAddress: first.mac ?? "", Bridge: first.bridge, Networks: networks };
  }
  const b = running ? rec.bridge : undefined;
  if (!b) return {};
  const addr = { IPAddress: b.ip, IPPrefixLen: b.prefix, Gateway: b.gateway };
  return { ...addr, Bridge: b.bridge, Networks: { podman: { NetworkID: "podman", ...addr } } };
}

/** "" (the default) reads as podman's "private"; older records without a value had no network. */
const networkModeText = (v: string | undefined) => (v === undefined ? "none" : v === "" ? "private" : v);

/** go-units HumanSizeWithPrecision(n, 3), as podman's ps prints sizes: "12.3kB", "0B", no space. */
export function goSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${goG3(v)}${units[i]}`;
}

/** Go's %.3g: three significant digits, trailing zeros dropped, exponent form when it rounds to 1000. */
function goG3(v: number): string {
  const p = v.toPrecision(3);
  const e = /^(-?[\d.]+)e([+-])(\d+)$/.exec(p);
  const trim = (m: string) => (m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m);
  return e ? `${trim(e[1]!)}e${e[2]}${e[3]!.padStart(2, "0")}` : trim(p);
}

/** `{{.Size}}` of `ps --size`: "RW (virtual ROOTFS)". */
export function sizeText(s: ContainerSize | undefined): string {
  return s ? `${goSize(s.rwSize)} (virtual ${goSize(s.rootFsSize)})` : "";
}

export type PsRow = ReturnType<typeof psRow>;

/** The template view: `{{.Names}}` is a plain name, `{{.Command}}` the (truncated) command text, as podman prints them. */
export function psTemplateRow(r: PsRow) {
  const ns = r.Namespaces;
  // podman's psReporter names the --ns columns CGROUPNS … UTS
  const nsColumns = ns ? { CGROUPNS: ns.Cgroup, IPC: ns.IPC, MNT: ns.MNT, NET: ns.NET, PIDNS: ns.PIDNS, USERNS: ns.User, UTS: ns.UTS } : {};
  return { ...r, ...nsColumns, Labels: r.Labels ?? {}, Names: r.Names.join(","), Command: r.CommandText, Ports: r.Ports.join(", "), Created: r.CreatedHuman, Size: sizeText(r.Size) };
}

export function psJsonRow(r: PsRow) {
  const { ID: _i, CommandText: _c, CreatedHuman: _h, ...json } = r;
  return json;
}

/** Named and anonymous volumes as podman's inspect lists them among Mounts. */
function volumeMountViews(mounts: VolumeMount[] = []) {
  return mounts.map((v) => ({ Type: "volume", Name: v.name, Source: v.source, Destination: v.target, Driver: "local", RW: !v.readonly }));
}

/** podman's HostConfig.Ulimits: RLIMIT_ names, unlimited as 2^64-1. */
function ulimitViews(values: string[] | undefined) {
  return parseUlimits(values ?? []).map((u) => ({ Name: `RLIMIT_${u.name.toUpperCase()}`, Soft: Number(u.soft), Hard: Number(u.hard) }));
}

/** podman's HostConfig resource fields: limits in its units, 0 (or empty) when unset. */
export function resourceViews(r: Resources = {}) {
  const devices = (kind: ThrottleKind) => {
    const t = (r.throttle ?? []).filter((d) => d.kind === kind).map((d) => ({ Path: d.path, Rate: d.rate }));
    return t.length ? t : null;
  };
  return {
    CgroupManager: "cgroupfs",
    CgroupParent: r.cgroupParent ?? "",
    Cgroups: r.cgroups === "disabled" ? "disabled" : r.cgroups === "split" ? "split" : "default",
    CgroupConf: r.unified ?? null,
    Memory: r.memory ?? 0,
    MemoryReservation: r.memoryReservation ?? 0,
    MemorySwap: r.memorySwap ?? 0,
    MemorySwappiness: 0,
    OomKillDisable: false,
    OomScoreAdj: r.oomScoreAdj ?? 0,
    NanoCpus: r.nanoCpus ?? 0,
    CpuShares: r.cpuShares ?? 0,
    CpuPeriod: r.cpuPeriod ?? 0,
    CpuQuota: r.cpuQuota ?? 0,
    CpusetCpus: r.cpusetCpus ?? "",
    CpusetMems: r.cpusetMems ?? "",
    PidsLimit: r.pidsLimit ?? 0,
    BlkioWeight: r.blkioWeight ?? 0,
    BlkioDeviceReadBps: devices("rbps"),
    BlkioDeviceWriteBps: devices("wbps"),
    BlkioDeviceReadIOps: devices("riops"),
    BlkioDeviceWriteIOps: devices("wiops"),
  };
}

/** execIds: the container's live exec sessions (live.ts). */
export function containerInspect(rec: ContainerRecord, execIds: string[] = []) {
  const status = statusOf(rec);
  const o = rec.config?.opts;
  const argv = rec.command;
  return {
    Id: rec.id,
    Created: rec.created,
    Path: argv[0] ?? "",
    Args: argv.slice(1),
    State: {
      Status: status,
      Running: status === "running",
      Paused: status === "paused",
      Restarting: false,
      OOMKilled: rec.oomKilled ?? false,
      Dead: false,
      Pid: status === "running" || status === "paused" ? (rec.pid ?? 0) : 0,
      ExitCode: status === "exited" ? exitCodeOf(rec) : 0,
      Error: "",
      StartedAt: rec.startedAt ?? "0001-01-01T00:00:00Z",
      FinishedAt: rec.finishedAt ?? "0001-01-01T00:00:00Z",
      ...(o?.healthcheck ? { Health: healthView(rec) } : {}),
    },
    Image: rec.imageId,
    ImageName: rec.image,
    Name: rec.name,
    RestartCount: rec.restartCount ?? 0,
    ...(rec.config?.conmonPidfile ? { ConmonPidFile: rec.config.conmonPidfile } : {}),
    ExecIDs: execIds,
    ...capsView(o),
    Config: {
      Hostname: o?.hostname ?? rec.id.slice(0, 12),
      User: o?.user ?? "",
      Env: rec.env ?? o?.env ?? [],
      Cmd: o?.command.length ? o.command : null,
      Entrypoint: o?.entrypoint ?? null,
      WorkingDir: o?.workdir ?? "",
      Labels: o?.labels ?? null,
      CreateCommand: rec.createCommand ?? null,
      Annotations: o?.annotations ?? {},
      Image: rec.image,
      StopSignal: o?.stopSignal ?? 15,
      StopTimeout: o?.stopTimeout ?? 10,
      ...(o?.healthcheck ? { Healthcheck: healthcheckView(o.healthcheck), HealthcheckOnFailureAction: o.healthcheck.onFailure } : {}),
      ...(o?.tz ? { Timezone: o.tz } : {}),
      Tty: o?.tty ?? false,
      OpenStdin: rec.config?.interactive ?? false,
    },
    HostConfig: {
      AutoRemove: rec.config?.rm ?? false,
      RestartPolicy: restartPolicyView(o?.restartPolicy),
      Privileged: o?.privileged ?? false,
      ReadonlyRootfs: o?.readOnly ?? false,
      CapAdd: o?.capAdd ?? [],
      CapDrop: o?.capDrop ?? [],
      Binds: [...(o?.volumes ?? []), ...(o?.volumeMounts ?? []).map((v) => `${v.name}:${v.target}:${v.readonly ? "ro" : "rw"}`)],
      Tmpfs: Object.fromEntries((o?.tmpfs ?? []).map((t) => [t.split(":")[0]!, t.split(":")[1] ?? ""])),
      NetworkMode: rec.networkHelper ?? networkModeText(o?.network),
      // podman's names and defaults; container:NAME is recorded with the other's ID, as podman shows it
      IpcMode: o?.ipc || "shareable",
      PidMode: o?.pid || "private",
      UTSMode: o?.uts || "private",
      CgroupMode: o?.cgroupns || "private",
      UsernsMode: o?.userns ?? "",
      PortBindings: portBindings(o?.ports),
      SecurityOpt: inspectSecurityOpts(o?.securityOpt ?? []),
      GroupAdd: o?.groupAdd ?? [],
      ShmSize: o?.shmSize ?? 64 * 1024 * 1024,
      Ulimits: ulimitViews(o?.ulimits),
      Devices: (o?.devices ?? []).map((d) => ({ PathOnHost: d.source, PathInContainer: d.target, CgroupPermissions: d.perms })),
      Sysctls: Object.fromEntries((o?.sysctls ?? []).map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)])),
      ...resourceViews(o?.resources),
    },
    Mounts: (o?.volumes ?? []).map((v) => {
      const [src, dst, opts] = v.split(":");
      return { Type: "bind", Source: src, Destination: dst, RW: !(opts ?? "").split(",").includes("ro") };
    }).concat(volumeMountViews(o?.volumeMounts)),
    NetworkSettings: { ...bridgeSettings(rec, status === "running" || status === "paused"), Ports: portBindings(o?.ports) },
  };
}

/**
 * EffectiveCaps and BoundingCaps as podman's inspect shows them: the
 * command's sets. A --user other than root has no effective capabilities
 * beyond those added (the user's uid is settled at start; a name is taken
 * for a non-root user here).
 */
function capsView(o: RunOptions | undefined): { EffectiveCaps: string[]; BoundingCaps: string[] } {
  const user = o?.user ?? "";
  const root = user === "" || /^(0|root)(:|$)/.test(user);
  const caps = computeCaps({ add: o?.capAdd ?? [], drop: o?.capDrop ?? [], privileged: o?.privileged ?? false, uid: root ? 0 : 1 });
  return { EffectiveCaps: capabilityNames(caps.effective), BoundingCaps: capabilityNames(caps.bounding) };
}
