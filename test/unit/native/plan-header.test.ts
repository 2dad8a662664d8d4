// The plan header core.c reads: the namespace fields say "1" (its own), "0" (pod's, the host's) or the file to join; the count of --preserve-fds.
import { expect, test } from "bun:test";
import { flattenPlan } from "../../../pkg/native/core.ts";
import { PlanField } from "../../../pkg/native/protocol.ts";
import type { LaunchPlan } from "../../../pkg/native/plan.ts";

const plan: LaunchPlan = {
  rootfs: "/r",
  rootfsMount: { kind: "bind" },
  ops: [],
  readonlyRoot: false,
  hostname: "h",
  newNetwork: true,
  argv: ["true"],
  env: [],
  cwd: "/",
  uid: 0,
  gid: 0,
  groups: [],
  caps: { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n },
  noNewPrivileges: false,
  init: false,
  uidMap: [0, 1000, 1],
  gidMap: [0, 1000, 1],
};

test("without namespaces every one is the container's own", () => {
  const { header } = flattenPlan(plan);
  expect(header.length).toBe(PlanField.HeaderLen);
  expect([header[PlanField.PidNs], header[PlanField.IpcNs], header[PlanField.UtsNs], header[PlanField.CgroupNs]]).toEqual(["1", "1", "1", "1"]);
});

test("host is 0, a path is joined as given", () => {
  const { header } = flattenPlan({ ...plan, namespaces: { pid: "host", ipc: "/proc/7/ns/ipc", uts: "private", cgroup: "host" } });
  expect([header[PlanField.PidNs], header[PlanField.IpcNs], header[PlanField.UtsNs], header[PlanField.CgroupNs]]).toEqual(["0", "/proc/7/ns/ipc", "1", "0"]);
});

test("--preserve-fds: the count, 0 when none", () => {
  expect(flattenPlan(plan).header[PlanField.PreserveFds]).toBe("0");
  expect(flattenPlan({ ...plan, preserveFds: 2 }).header[PlanField.PreserveFds]).toBe("2");
});
