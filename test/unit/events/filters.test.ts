// podman's event filters: one key's values OR'ed, different keys AND'ed.
import { describe, expect, test } from "bun:test";
import { compileEventFilters, inWindow, parseEventWindowTime, type PodEvent } from "../../../pkg/events/index.ts";
import { PodError } from "../../../pkg/errors.ts";

const ID = "0123456789ab".padEnd(64, "f");
const ev = (e: Partial<PodEvent>): PodEvent => ({ Status: "start", Type: "container", Time: "2024-01-01T12:00:00Z", ...e });
const start = ev({ ID, Name: "web", Image: "docker.io/library/alpine:latest", Attributes: { app: "shop" } });
const died = ev({ ID, Name: "web", Status: "died" });
const other = ev({ ID: "f".repeat(64), Name: "db" });
const vol = ev({ Type: "volume", Status: "create", Name: "data-1" });
const img = ev({ Type: "image", Status: "pull", ID: "e".repeat(64), Name: "docker.io/library/alpine:latest" });
const net = ev({ Type: "network", Status: "connect", ID, Network: "mynet" });
const all = [start, died, other, vol, img, net];

const pick = (...f: string[]) => all.filter(compileEventFilters(f));

describe("compileEventFilters", () => {
  test("no filter keeps everything", () => expect(pick()).toEqual(all));

  test("container= by name or ID prefix, containers only", () => {
    expect(pick("container=web")).toEqual([start, died]);
    expect(pick("container=0123")).toEqual([start, died, net].filter((e) => e.Type === "container"));
  });

  test("event= and status= compare the status; type= the type", () => {
    expect(pick("event=died")).toEqual([died]);
    expect(pick("status=create")).toEqual([vol]);
    expect(pick("type=image")).toEqual([img]);
  });

  test("values of one key are OR'ed, keys AND'ed", () => {
    expect(pick("event=start", "event=died")).toEqual([start, died, other]);
    expect(pick("container=web", "event=start", "event=died")).toEqual([start, died]);
    expect(pick("container=db", "event=died")).toEqual([]);
  });

  test("image=, volume= (name prefix), network=, label=", () => {
    expect(pick("image=docker.io/library/alpine:latest")).toEqual([img]);
    expect(pick("volume=data")).toEqual([vol]);
    expect(pick("network=mynet")).toEqual([net]);
    expect(pick("label=app=shop")).toEqual([start]);
    expect(pick("label=app")).toEqual([start]);
    expect(pick("label=app=other")).toEqual([]);
  });

  test("keys are case-insensitive; unknown or malformed filters are podman's error", () => {
    expect(pick("EVENT=died")).toEqual([died]);
    expect(() => compileEventFilters(["color=red"])).toThrow("color is an invalid filter");
    expect(() => compileEventFilters(["died"])).toThrow(PodError);
  });
});

describe("time window", () => {
  const now = Date.parse("2024-01-01T12:10:00Z");
  test("durations count back from now; strictly after since and before until", () => {
    const since = parseEventWindowTime("since", "15m", now);
    const until = parseEventWindowTime("until", "2024-01-01T12:00:00Z", now);
    expect(inWindow(start, since, undefined)).toBe(true);
    expect(inWindow(start, parseEventWindowTime("since", "5m", now), undefined)).toBe(false);
    expect(inWindow(start, since, until)).toBe(false);
    expect(inWindow(start, since, until + 1)).toBe(true);
    expect(inWindow(start, undefined, undefined)).toBe(true);
  });

  test("an unreadable time is podman's error", () => {
    expect(() => parseEventWindowTime("since", "yesterday")).toThrow("unable to convert since time of yesterday");
  });
});
