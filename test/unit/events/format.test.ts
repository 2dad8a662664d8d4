// podman's event line and JSON: Go's time.Time String() and RFC3339Nano,
// ToHumanReadable per type, omitempty fields.
import { describe, expect, test } from "bun:test";
import { eventJson, goTimeString, humanLine, parseEventLine, rfc3339Nano, templateView, type PodEvent } from "../../../pkg/events/index.ts";
import { zoneIsUtc } from "../../../pkg/events/event.ts";
import { parseEventTime } from "../../../pkg/events/event.ts";

const ID = "a".repeat(64);
const at = (e: Partial<PodEvent>): PodEvent => ({ Status: "start", Type: "container", Time: "2024-01-01T12:00:00.123456789Z", ...e });

describe("times", () => {
  test("Go's String() trims trailing zeros and names UTC", () => {
    expect(goTimeString("2024-01-01T12:00:00.123456789Z")).toBe("2024-01-01 12:00:00.123456789 +0000 UTC");
    expect(goTimeString("2024-01-01T12:00:00.5Z")).toBe("2024-01-01 12:00:00.5 +0000 UTC");
    expect(goTimeString("2024-01-01T12:00:00Z")).toBe("2024-01-01 12:00:00 +0000 UTC");
  });

  test("a foreign offset is printed twice, as Go prints a zone without a name", () => {
    const off = -new Date("2024-01-01T12:00:00Z").getTimezoneOffset();
    if (off === 150) return; // the test's offset happens to be the local one
    expect(goTimeString("2024-01-01T14:30:00.1+02:30")).toBe("2024-01-01 14:30:00.1 +0230 +0230");
  });

  test("RFC3339Nano round-trips through the parser to the nanosecond", () => {
    const ns = 1_704_110_400_123_456_789n;
    const s = rfc3339Nano(ns);
    expect(parseEventTime(s)!.ns).toBe(ns);
    expect(parseEventTime("2024-01-01T14:00:00.000000001+02:00")!.ns).toBe(1_704_110_400_000_000_001n);
    expect(parseEventTime("yesterday")).toBeUndefined();
  });
});

describe("humanLine", () => {
  test("container: ID, image, name and sorted labels; --no-trunc=false shortens the ID", () => {
    const e = at({ ID, Image: "docker.io/library/alpine:latest", Name: "web", Attributes: { z: "1", a: "2" } });
    expect(humanLine(e, false)).toBe(`2024-01-01 12:00:00.123456789 +0000 UTC container start ${ID} (image=docker.io/library/alpine:latest, name=web, a=2, z=1)`);
    expect(humanLine(e, true)).toContain(` container start ${ID.slice(0, 12)} (image=`);
  });

  test("image, volume and network lines", () => {
    expect(humanLine(at({ Type: "image", Status: "pull", ID, Name: "docker.io/library/alpine:latest" }), true)).toBe(
      `2024-01-01 12:00:00.123456789 +0000 UTC image pull ${ID.slice(0, 12)} docker.io/library/alpine:latest`,
    );
    expect(humanLine(at({ Type: "volume", Status: "create", Name: "data" }), true)).toBe("2024-01-01 12:00:00.123456789 +0000 UTC volume create data");
    expect(humanLine(at({ Type: "network", Status: "create", ID, Network: "mynet", Attributes: { driver: "bridge" } }), true)).toBe(
      `2024-01-01 12:00:00.123456789 +0000 UTC network create ${ID} (name=mynet, type=bridge)`,
    );
    expect(humanLine(at({ Type: "network", Status: "connect", ID, Network: "mynet" }), false)).toBe(
      `2024-01-01 12:00:00.123456789 +0000 UTC network connect ${ID} (container=${ID}, name=mynet)`,
    );
  });
});

describe("JSON", () => {
  test("podman's field order, empty fields and a zero exit code left out", () => {
    expect(eventJson(at({ ID, Name: "web", Image: "alpine", ContainerExitCode: 0, Attributes: {} }))).toBe(
      `{"ID":"${ID}","Image":"alpine","Name":"web","Status":"start","Time":"2024-01-01T12:00:00.123456789Z","Type":"container"}`,
    );
    expect(JSON.parse(eventJson(at({ Status: "died", ContainerExitCode: 3 }))).ContainerExitCode).toBe(3);
  });

  test("a stored line parses back; a torn or foreign one is skipped", () => {
    const e = at({ ID, Name: "web" });
    expect(parseEventLine(eventJson(e))).toEqual(e);
    expect(parseEventLine('{"ID":"x","Sta')).toBeUndefined();
    expect(parseEventLine('{"hello":1}')).toBeUndefined();
  });

  test("templates see Time as Go prints it and every field", () => {
    const v = templateView(at({ ID, Name: "web", ContainerExitCode: 2 }));
    expect(v.Time).toBe("2024-01-01 12:00:00.123456789 +0000 UTC");
    expect(v.ContainerExitCode).toBe(2);
    expect(v.Image).toBe("");
  });
});

describe("the local zone without ICU", () => {
  test("TZ names UTC in its spellings, '' is UTC, other zones are left to ICU", () => {
    for (const tz of ["UTC", ":UTC", "Etc/UTC", "UCT", "Etc/Universal", "Zulu", "GMT", "Etc/GMT+0", "UTC0", ""]) expect(zoneIsUtc({ TZ: tz })).toBe(true);
    for (const tz of ["Europe/Berlin", "America/New_York", "CET", "UTC+1", "Etc/GMT+1", "EST5EDT"]) expect(zoneIsUtc({ TZ: tz })).toBe(false);
  });
  test("without TZ, /etc/localtime's link decides, and the offset agrees with ICU's", () => {
    // a zone said to be UTC must be one ICU finds at offset 0 too (this machine's /etc/localtime is Etc/UTC)
    if (zoneIsUtc({})) expect(new Date().getTimezoneOffset()).toBe(0);
    else expect(zoneIsUtc({ TZ: "UTC" })).toBe(true);
  });
});
