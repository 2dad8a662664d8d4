// Capability names, podman's defaults and --cap-add/--cap-drop/--privileged.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../pkg/errors.ts";
import {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  capabilityNames,
  capabilityNumber,
  computeCaps,
} from "../../../pkg/runtime/index.ts";
import { thrown } from "./_layers.ts";

const root = { privileged: false, uid: 0 };
const namesOf = (c: { add: string[]; drop: string[]; privileged?: boolean; uid?: number }) =>
  capabilityNames(computeCaps({ ...root, ...c }).bounding);

describe("capability numbers", () => {
  test("41 capabilities, CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40", () => {
    expect(CAPABILITIES.length).toBe(41);
    expect(capabilityNumber("CAP_CHOWN")).toBe(0);
    expect(capabilityNumber("CAP_NET_BIND_SERVICE")).toBe(10);
    expect(capabilityNumber("CAP_SYS_ADMIN")).toBe(21);
    expect(capabilityNumber("CAP_SETFCAP")).toBe(31);
    expect(capabilityNumber("CAP_CHECKPOINT_RESTORE")).toBe(40);
  });
  test("names are case-insensitive, with or without CAP_", () => {
    for (const n of ["net_admin", "NET_ADMIN", "cap_net_admin", "Cap_Net_Admin", " net_admin "]) expect(capabilityNumber(n)).toBe(12);
  });
  test("an unknown name is a usage error with close names in the hint", () => {
    const e = thrown(() => capabilityNumber("net_admn"));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('unknown capability "net_admn"');
    expect(e.hint).toContain("CAP_NET_ADMIN");
    expect(thrown(() => capabilityNumber("xyzzy")).hint).toContain("CAP_CHOWN");
  });
});

describe("root in the container", () => {
  test("podman's default set, effective and permitted too, nothing inheritable or ambient", () => {
    const c = computeCaps({ add: [], drop: [], ...root });
    expect(capabilityNames(c.bounding)).toEqual([...DEFAULT_CAPABILITIES].sort((a, b) => capabilityNumber(a) - capabilityNumber(b)));
    expect(c.effective).toBe(c.bounding);
    expect(c.permitted).toBe(c.bounding);
    expect(c.inheritable).toBe(0n);
    expect(c.ambient).toBe(0n);
  });
  test("add and drop, comma lists and repeats", () => {
    const got = namesOf({ add: ["net_admin,sys_time", "CAP_NET_RAW"], drop: ["chown", "kill,setfcap"] });
    expect(got).toContain("CAP_NET_ADMIN");
    expect(got).toContain("CAP_SYS_TIME");
    expect(got).toContain("CAP_NET_RAW");
    expect(got).not.toContain("CAP_CHOWN");
    expect(got).not.toContain("CAP_KILL");
    expect(got).not.toContain("CAP_SETFCAP");
    expect(got.length).toBe(11 + 3 - 3);
  });
  test("drop ALL then add", () => {
    expect(namesOf({ add: ["net_bind_service"], drop: ["ALL"] })).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(namesOf({ add: [], drop: ["all"] })).toEqual([]);
  });
  test("add ALL then drop", () => {
    const got = namesOf({ add: ["ALL"], drop: ["sys_admin"] });
    expect(got.length).toBe(40);
    expect(got).not.toContain("CAP_SYS_ADMIN");
  });
  test("ALL both ways, or one name both ways, is refused", () => {
    expect(thrown(() => computeCaps({ add: ["ALL"], drop: ["ALL"], ...root }))).toBeInstanceOf(UsageError);
    const e = thrown(() => computeCaps({ add: ["net_admin"], drop: ["CAP_NET_ADMIN"], ...root }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain("CAP_NET_ADMIN");
  });
  test("unknown names in either list are usage errors", () => {
    expect(thrown(() => computeCaps({ add: ["sys_admn"], drop: [], ...root }))).toBeInstanceOf(UsageError);
    expect(thrown(() => computeCaps({ add: [], drop: ["nope"], ...root }))).toBeInstanceOf(UsageError);
  });
  test("privileged gets all 41; --cap-drop still applies", () => {
    const c = computeCaps({ add: [], drop: [], privileged: true, uid: 0 });
    expect(c.bounding).toBe((1n << 41n) - 1n);
    expect(c.effective).toBe(c.bounding);
    expect(namesOf({ add: [], drop: ["sys_admin"], privileged: true }).length).toBe(40);
  });
});

describe("a non-root user", () => {
  test("keeps the set as bounding only", () => {
    const c = computeCaps({ add: [], drop: [], privileged: false, uid: 1000 });
    expect(capabilityNames(c.bounding).length).toBe(11);
    expect([c.effective, c.permitted, c.inheritable, c.ambient]).toEqual([0n, 0n, 0n, 0n]);
  });
  test("gets exactly the --cap-add capabilities in effective, permitted, inheritable and ambient (podman)", () => {
    const c = computeCaps({ add: ["net_raw"], drop: [], privileged: false, uid: 1000 });
    const raw = 1n << 13n;
    expect(c.bounding & raw).toBe(raw);
    expect([c.effective, c.permitted, c.inheritable, c.ambient]).toEqual([raw, raw, raw, raw]);
  });
});
