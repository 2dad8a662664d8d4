// Container filters shared by ps, start, stop, restart and rm: podman's keys,
// values of one key OR-ed, different keys AND-ed, bad input a usage error.
import { describe, expect, test } from "bun:test";
import { compileFilters, filtersOnStatus, groupFilters, type Candidate } from "../../../pkg/container/record/filters.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";
import type { Status } from "../../../pkg/container/record/state.ts";
import { UsageError } from "../../../pkg/errors.ts";
import { thrown } from "../runtime/_layers.ts";

const IMG = "9c6f0724472873bb50a2ae67a9e7adcb57673a183cea8b06eb778dca859181b5";
const NOW = Date.parse("2026-11-23T12:00:00Z");

function rec(name: string, id: string, created: string, o: Partial<ContainerRecord> = {}): ContainerRecord {
  return { id: id.padEnd(64, "0"), name, image: "docker.io/library/alpine:latest", imageId: IMG, command: ["sleep", "1000"], created, state: "created", ...o };
}

const web = rec("web", "aaa111", "2026-11-23T10:00:00Z", {
  state: "running",
  config: {
    rm: false,
    interactive: false,
    opts: {
      volumes: ["/srv/www:/usr/share/www:ro"],
      volumeMounts: [{ name: "data", source: "/x/volumes/data/_data", target: "/data", readonly: false }],
      labels: { app: "web", tier: "front", "com.example.owner": "ops" },
    } as never,
  },
});
const job = rec("job-1", "bbb222", "2026-11-23T11:00:00Z", {
  state: "exited",
  exitCode: 2,
  command: ["/bin/sh", "-c", "exit 2"],
  config: { rm: false, interactive: false, opts: { volumes: [], labels: { app: "batch", tier: "" } } as never },
});
const fresh = rec("fresh", "abc333", "2026-11-23T11:30:00Z", { image: "quay.io/podman/hello:latest", imageId: "f".repeat(64) });
const all = [web, job, fresh];
const status: Record<string, Status> = { web: "running", "job-1": "exited", fresh: "created" };

function names(specs: string[], resolveImage?: (r: string) => string | undefined): string[] {
  const f = compileFilters(specs, { all, now: NOW, resolveImage });
  return all.filter((r) => f({ rec: r, status: status[r.name]! } as Candidate)).map((r) => r.name);
}

describe("parsing", () => {
  test("values group by key, in order", () => {
    expect([...groupFilters(["status=running", "name=a", "status=exited"])]).toEqual([
      ["status", ["running", "exited"]],
      ["name", ["a"]],
    ]);
  });

  test("no = or an unknown key is a usage error naming it, with the keys pod knows", () => {
    for (const [spec, msg] of [
      ["bogus=1", "bogus is an invalid filter"],
      ["pod=x", "pod is an invalid filter"],
      ["name", 'invalid filter "name"'],
      ["=x", 'invalid filter "=x"'],
    ] as const) {
      const e = thrown(() => compileFilters([spec], { all, now: NOW }));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(msg);
      expect(e.hint).toContain("id, name, status, ancestor");
    }
  });

  test("bad values: an unknown state, an exit code that is no number, a regex that does not compile, two until=", () => {
    expect(thrown(() => names(["status=sleepy"])).message).toBe('unknown container state: "sleepy"');
    expect(thrown(() => names(["exited=x"])).message).toBe('exited code out of range "x"');
    expect(thrown(() => names(["name=("])).message).toContain('"(" is not a valid regular expression');
    expect(thrown(() => names(["until=1h", "until=2h"])).message).toBe("specify exactly one timestamp for until");
    expect(thrown(() => names(["until=soon"])).message).toContain('invalid time "soon"');
    expect(thrown(() => names(["before=nobody"])).message).toContain('no container with name or ID "nobody"');
  });

  test("filtersOnStatus tells ps to look beyond running containers", () => {
    expect(filtersOnStatus(["name=a", "status=exited"])).toBe(true);
    expect(filtersOnStatus(["name=status=x"])).toBe(false);
  });
});

describe("matching", () => {
  test("no filters match everything", () => {
    expect(names([])).toEqual(["web", "job-1", "fresh"]);
  });

  test("id: hex is a prefix, anything else a regular expression", () => {
    expect(names(["id=aaa"])).toEqual(["web"]);
    expect(names(["id=AAA1"])).toEqual(["web"]);
    expect(names(["id=a"])).toEqual(["web", "fresh"]);
    expect(names(["id=^b+2"])).toEqual(["job-1"]);
    expect(names(["id=333"])).toEqual([]);
  });

  test("name: a regular expression; a leading / is dropped (docker's names)", () => {
    expect(names(["name=^web$"])).toEqual(["web"]);
    expect(names(["name=e"])).toEqual(["web", "fresh"]);
    expect(names(["name=/job"])).toEqual(["job-1"]);
  });

  test("values of one key are alternatives; different keys must all match", () => {
    expect(names(["status=running", "status=created"])).toEqual(["web", "fresh"]);
    expect(names(["status=running", "status=created", "name=^f"])).toEqual(["fresh"]);
    expect(names(["name=web", "id=bbb"])).toEqual([]);
  });

  test("status: stopped is exited", () => {
    expect(names(["status=stopped"])).toEqual(["job-1"]);
    expect(names(["status=paused"])).toEqual([]);
  });

  test("exited: the exit code of exited containers only", () => {
    expect(names(["exited=2"])).toEqual(["job-1"]);
    expect(names(["exited=0"])).toEqual([]);
    expect(names(["exited=0", "exited=2"])).toEqual(["job-1"]);
  });

  test("ancestor: a name the image answers to, an image ID prefix, or what the store resolves", () => {
    expect(names(["ancestor=alpine"])).toEqual(["web", "job-1"]);
    expect(names(["ancestor=alpine:latest"])).toEqual(["web", "job-1"]);
    expect(names(["ancestor=docker.io/library/alpine:latest"])).toEqual(["web", "job-1"]);
    expect(names(["ancestor=9c6f07"])).toEqual(["web", "job-1"]);
    expect(names(["ancestor=hello"])).toEqual(["fresh"]);
    expect(names(["ancestor=busybox"])).toEqual([]);
    expect(names(["ancestor=my-alias"], (r) => (r === "my-alias" ? "f".repeat(64) : undefined))).toEqual(["fresh"]);
  });

  test("before and since: created before or after the named container (by name or ID prefix)", () => {
    expect(names(["before=job-1"])).toEqual(["web"]);
    expect(names(["since=job-1"])).toEqual(["fresh"]);
    expect(names(["since=aaa111"])).toEqual(["job-1", "fresh"]);
    // several values: the earliest of them
    expect(names(["before=fresh", "before=job-1"])).toEqual(["web"]);
  });

  test("until: created before a time, or that long ago", () => {
    expect(names(["until=2026-11-23T10:30:00Z"])).toEqual(["web"]);
    expect(names(["until=45m"])).toEqual(["web", "job-1"]);
    expect(names(["until=1h30m"])).toEqual(["web"]);
    expect(names([`until=${NOW / 1000 - 3600 + 1}`])).toEqual(["web", "job-1"]);
  });

  test("volume: a volume name or a destination; NAME:DEST or SOURCE:DEST must both match", () => {
    expect(names(["volume=data"])).toEqual(["web"]);
    expect(names(["volume=/data"])).toEqual(["web"]);
    expect(names(["volume=/usr/share/www"])).toEqual(["web"]);
    expect(names(["volume=data:/data"])).toEqual(["web"]);
    expect(names(["volume=/srv/www:/usr/share/www"])).toEqual(["web"]);
    expect(names(["volume=data:/elsewhere"])).toEqual([]);
    expect(names(["volume=/srv/www"])).toEqual([]);
  });

  test("command: a regular expression on the first word of the command", () => {
    expect(names(["command=^sleep$"])).toEqual(["web", "fresh"]);
    expect(names(["command=sh"])).toEqual(["job-1"]);
    expect(names(["command=1000"])).toEqual([]);
  });
});

describe("label", () => {
  test("KEY is present with any value, KEY=VALUE matches exactly, KEY= any value", () => {
    expect(names(["label=app"])).toEqual(["web", "job-1"]);
    expect(names(["label=app=web"])).toEqual(["web"]);
    expect(names(["label=app="])).toEqual(["web", "job-1"]);
    expect(names(["label=tier="])).toEqual(["web", "job-1"]);
    expect(names(["label=nope"])).toEqual([]);
  });
  test("several label filters must all match (podman's MatchLabelFilters)", () => {
    expect(names(["label=app", "label=tier=front"])).toEqual(["web"]);
    expect(names(["label=app=web", "label=app=batch"])).toEqual([]);
  });
  test("glob patterns in the key", () => {
    expect(names(["label=com.example.*"])).toEqual(["web"]);
    expect(names(["label=com.example.*=ops"])).toEqual(["web"]);
    expect(names(["label=com?example.owner"])).toEqual(["web"]);
  });
  test("label! keeps the containers label= would drop", () => {
    expect(names(["label!=app=web"])).toEqual(["job-1", "fresh"]);
    expect(names(["label!=app"])).toEqual(["fresh"]);
    expect(names(["label!=app", "label=tier"])).toEqual([]);
  });
});
