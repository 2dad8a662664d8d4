// --sysctl: podman's ValidateSysctls rules, the namespace the key belongs to, and the writes it becomes.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../pkg/errors.ts";
import { parseSysctls, sysctlOps } from "../../../pkg/runtime/index.ts";
import { thrown } from "./_layers.ts";

describe("parseSysctls", () => {
  test("IPC and net keys; later wins; values keep inner spaces", () => {
    expect(parseSysctls(["net.ipv4.ping_group_range=0 1000", "kernel.shmmax=1", "fs.mqueue.msg_max=20", "kernel.shmmax=2"], "")).toEqual([
      ["net.ipv4.ping_group_range", "0 1000"],
      ["kernel.shmmax", "2"],
      ["fs.mqueue.msg_max", "20"],
    ]);
  });
  test("podman's refusals", () => {
    const msg = (v: string, net = "") => thrown(() => parseSysctls([v], net)).message;
    expect(msg("vm.swappiness=1")).toBe("sysctl 'vm.swappiness' is not allowed");
    expect(msg("kernel.pid_max=1")).toBe("sysctl 'kernel.pid_max' is not allowed");
    expect(msg("net.ipv4.ip_forward")).toBe("net.ipv4.ip_forward is invalid, sysctl values must be in the form of KEY=VALUE");
    expect(msg("net.ipv4.ip_forward= 1")).toBe("'net.ipv4.ip_forward= 1' is invalid, extra spaces found");
    expect(msg("net.ipv4.ip_forward=1", "host")).toBe("sysctl net.ipv4.ip_forward can't be set since Network Namespace set to host");
    expect(msg("net.ipv4.ip_forward=1", "container:web")).toBe("sysctl net.ipv4.ip_forward can't be set since Network Namespace set to container");
    expect(msg("net.../x=1")).toBe("sysctl 'net.../x' is not allowed");
    expect(thrown(() => parseSysctls(["vm.x=1"], ""))).toBeInstanceOf(UsageError);
    expect(parseSysctls(["kernel.sem=1 2 3 4"], "host")).toEqual([["kernel.sem", "1 2 3 4"]]);
  });
  test("writes under /proc/sys", () => {
    expect(sysctlOps([["net.ipv4.ip_forward", "1"]])).toEqual([{ op: "write", target: "/proc/sys/net/ipv4/ip_forward", data: "1" }]);
  });
});
