// The monitor learns its container from the native core through two arguments.
import { expect, test } from "bun:test";
import { parseMonitoredChild } from "../../../pkg/container/engine/monitor.ts";

test("--child PID,MASTER and --fds OUT,ERR,IN", () => {
  expect(parseMonitoredChild("4242,-1", "5,7,-1")).toEqual({ pid: 4242, ttyMaster: -1, stdout: 5, stderr: 7, stdin: -1 });
  expect(parseMonitoredChild("17,9", "-1,-1,-1")).toEqual({ pid: 17, ttyMaster: 9, stdout: -1, stderr: -1, stdin: -1 });
});

test("anything else is refused", () => {
  expect(parseMonitoredChild("", "5,7,-1")).toBeUndefined();
  expect(parseMonitoredChild("12", "5,7,-1")).toBeUndefined();
  expect(parseMonitoredChild("12,3", "5,7")).toBeUndefined();
  expect(parseMonitoredChild("-12,3", "5,7,8")).toBeUndefined();
});
