// pod events with podman's file backend: the statuses a container's lifecycle
// writes, in order, --stream=false, --since/--until, --filter, --format json
// and templates, podman's default line, a streaming reader that sees a start
// made after it began and ends cleanly when its reader goes away, and
// --events-backend none writing nothing.
import { describe } from "bun:test";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, it, POD } from "./helpers.ts";
import { useLifecycle, runD, create, track, until } from "./lifecycle-helpers.ts";

useSuite("570-events");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const HUMAN_TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? [+-]\d{4} \S+`;

/** The statuses of one object's events, oldest first. */
async function statuses(...filters: string[]): Promise<string[]> {
  const r = await runPod(["events", "--stream=false", "--format", "{{.Status}}", ...filters.flatMap((f) => ["--filter", f])]);
  expectExit(r, 0);
  return lines(r.stdout);
}

describe("container lifecycle", () => {
  A("create, start, exec, kill, stop, rename and rm write podman's statuses in order", async () => {
    const name = safeName("life");
    const id = await create(name, ["alpine", "sleep", "1000"]);
    expectExit(await runPod(["start", name]), 0);
    expectExit(await runPod(["exec", name, "true"]), 0);
    // PID 1 without a handler ignores USR1: the container keeps running
    expectExit(await runPod(["kill", "-s", "USR1", name]), 0);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    const renamed = track(`${name}-2`);
    expectExit(await runPod(["rename", name, renamed]), 0);
    expectExit(await runPod(["rm", renamed]), 0);
    expect(await statuses(`container=${id}`)).toEqual(["create", "start", "exec", "exec_died", "kill", "died", "stop", "rename", "remove"]);
    // by name: the events that carried that name
    expect(await statuses(`container=${renamed}`)).toEqual(["rename", "remove"]);
  });

  A("a foreground run --rm: create, start, attach, died with its exit code, remove", async () => {
    const name = safeName("fg");
    track(name);
    expectExit(await runPod(["run", "--rm", "--name", name, "alpine", "sh", "-c", "exit 3"]), 3);
    const r = await runPod(["events", "--stream=false", "--format", "json", "--filter", `container=${name}`]);
    expectExit(r, 0);
    const evs = lines(r.stdout).map((l) => JSON.parse(l));
    expect(evs.map((e) => e.Status)).toEqual(["create", "start", "attach", "died", "remove"]);
    const died = evs[3];
    expect(died.ContainerExitCode).toBe(3);
    expect(died.Type).toBe("container");
    expect(died.Name).toBe(name);
    expect(died.Image).toBe("docker.io/library/alpine:latest");
    expect(died.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(died.Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/);
    // podman's omitempty: a zero exit code is left out
    expect("ContainerExitCode" in evs[0]).toBe(false);
  });

  A("run -d: the monitor writes died; restart writes stop, start and restart", async () => {
    const name = safeName("bg");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    expectExit(await runPod(["restart", "-t", "0", name]), 0);
    expectExit(await runPod(["rm", "-f", name]), 0);
    expect(await statuses(`container=${id}`)).toEqual(["create", "start", "died", "stop", "start", "restart", "died", "remove"]);
  });
});

describe("output", () => {
  A("the default line is podman's; --no-trunc=false shortens IDs", async () => {
    const name = safeName("line");
    const id = await create(name, ["alpine", "true"]);
    const r = await runPod(["events", "--stream=false", "--filter", `container=${name}`]);
    expectExit(r, 0);
    assertOutput(r.stdout, new RegExp(`^${HUMAN_TIME} container create ${id} \\(image=docker\\.io/library/alpine:latest, name=${name}\\)\\n$`));
    const short = await runPod(["system", "events", "--stream=false", "--no-trunc=false", "--filter", `container=${name}`]);
    assertOutput(short.stdout, new RegExp(`^${HUMAN_TIME} container create ${id.slice(0, 12)} \\(image=`));
  });

  A("templates see podman's fields, Time as Go prints it", async () => {
    const name = safeName("tmpl");
    await create(name, ["alpine", "true"]);
    const r = await runPod(["events", "--stream=false", "--filter", `container=${name}`, "--format", "{{.Type}}|{{.Status}}|{{.Name}}|{{.Time}}"]);
    expectExit(r, 0);
    assertOutput(r.stdout, new RegExp(`^container\\|create\\|${name}\\|${HUMAN_TIME}\\n$`));
  });
});

describe("filters and times", () => {
  it("volume, network and image events; filters of one key OR'ed, keys AND'ed", async () => {
    const v = safeName("vol");
    expectExit(await runPod(["volume", "create", v]), 0);
    expectExit(await runPod(["volume", "rm", v]), 0);
    expect(await statuses(`volume=${v}`)).toEqual(["create", "remove"]);
    expect(await statuses(`volume=${v}`, "event=remove")).toEqual(["remove"]);
    expect(await statuses(`volume=${v}`, "event=remove", "event=create")).toEqual(["create", "remove"]);
    expect(await statuses(`volume=${v}`, "type=container")).toEqual([]);
    const n = safeName("net");
    expectExit(await runPod(["network", "create", n]), 0);
    expectExit(await runPod(["network", "rm", n]), 0);
    const nr = await runPod(["events", "--stream=false", "--filter", `network=${n}`]);
    assertOutput(nr.stdout, new RegExp(`^${HUMAN_TIME} network create [0-9a-f]{64} \\(name=${n}, type=bridge\\)\\n${HUMAN_TIME} network remove `));
    expectPodError(await runPod(["events", "--stream=false", "--filter", "colour=red"]), "colour is an invalid filter");
  });

  A("network connect and disconnect name the container and the network; export is an event", async () => {
    const [n1, n2] = [safeName("neta"), safeName("netb")];
    for (const n of [n1, n2]) expectExit(await runPod(["network", "create", n]), 0);
    const name = safeName("netctr");
    const id = await create(name, ["--network", n1, "alpine", "true"]);
    expectExit(await runPod(["network", "connect", n2, name]), 0);
    expectExit(await runPod(["network", "disconnect", n2, name]), 0);
    const r = await runPod(["events", "--stream=false", "--filter", `network=${n2}`, "--filter", "event=connect", "--filter", "event=disconnect"]);
    expectExit(r, 0);
    assertOutput(r.stdout, new RegExp(`^${HUMAN_TIME} network connect ${id} \\(container=${id}, name=${n2}\\)\\n${HUMAN_TIME} network disconnect ${id} `));
    expectExit(await runPod(["export", "-o", `${pod().tmp}/${name}.tar`, name]), 0);
    expect(await statuses(`container=${id}`, "event=export")).toEqual(["export"]);
    expectExit(await runPod(["rm", name]), 0);
    for (const n of [n1, n2]) expectExit(await runPod(["network", "rm", n]), 0);
  });

  A("image tag, untag and rmi", async () => {
    const ref = `localhost/${safeName("evt")}:1`;
    expectExit(await runPod(["tag", "alpine", ref]), 0);
    expectExit(await runPod(["rmi", ref]), 0);
    expect(await statuses(`image=${ref}`)).toEqual(["tag", "untag"]);
  });

  it("--since and --until pick the events of a time window", async () => {
    const a = safeName("early");
    const b = safeName("late");
    expectExit(await runPod(["volume", "create", a]), 0);
    await Bun.sleep(1100);
    const mid = new Date().toISOString();
    await Bun.sleep(1100);
    expectExit(await runPod(["volume", "create", b]), 0);
    const names = async (...args: string[]) =>
      lines((await runPod(["events", "--stream=false", "--filter", "type=volume", "--format", "{{.Name}}", ...args])).stdout).filter((x) => x === a || x === b);
    expect(await names("--since", mid)).toEqual([b]);
    expect(await names("--until", mid)).toEqual([a]);
    expect(await names("--since", "1h")).toEqual([a, b]);
    expect(await names("--since", "1h", "--until", "1s")).toEqual([a]);
    // --until ends a streaming reader once it has passed: the past events, then exit
    const s = await runPod(["events", "--since", "1h", "--until", mid, "--filter", "type=volume", "--format", "{{.Name}}"], { timeoutMs: 15_000 });
    expectExit(s, 0);
    expect(lines(s.stdout).filter((x) => x === a || x === b)).toEqual([a]);
    expectPodError(await runPod(["events", "--stream=false", "--since", "yesterday"]), "unable to convert since time of yesterday");
    for (const v of [a, b]) await runPod(["volume", "rm", v]);
  });
});

describe("streaming", () => {
  A("sees a start made after it began, and ends quietly when its reader goes away", async () => {
    const name = safeName("stream");
    const id = await create(name, ["alpine", "sleep", "1000"]);
    const p = Bun.spawn(["bash", "-c", `"$POD" events --filter container=${name} | head -n 1; echo "pod exited \${PIPESTATUS[0]}"`], {
      env: { ...pod().env, POD },
      cwd: pod().home,
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    // the reader is up once pod events has opened the file (it prints nothing of the past)
    await Bun.sleep(1500);
    expectExit(await runPod(["start", name]), 0);
    // head has left after the start line; the next event pod writes meets the closed pipe
    await Bun.sleep(500);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    clearTimeout(timer);
    expect(err).toBe("");
    assertOutput(out, new RegExp(`^${HUMAN_TIME} container start ${id} \\(image=docker\\.io/library/alpine:latest, name=${name}\\)\\npod exited 0\\n$`));
  });
});

describe("--events-backend", () => {
  A("none writes nothing, the monitor's events included; pod events refuses to read it", async () => {
    const v = safeName("quiet");
    expectExit(await runPod(["--events-backend", "none", "volume", "create", v]), 0);
    expectExit(await runPod(["--events-backend", "none", "volume", "rm", v]), 0);
    expect(await statuses(`volume=${v}`)).toEqual([]);
    const name = safeName("quietctr");
    track(name);
    expectExit(await runPod(["--events-backend", "none", "run", "-d", "--name", name, "alpine", "true"]), 0);
    await until(`${name} to exit`, async () => (await runPod(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim() === "exited");
    expect(await statuses(`container=${name}`)).toEqual([]);
    expectPodError(await runPod(["--events-backend", "none", "events", "--stream=false"]), 'cannot read events with the "none" backend');
  });

  it("journald and unknown backends are refused with a hint", async () => {
    expectPodError(await runPod(["--events-backend", "journald", "events", "--stream=false"]), "journal");
    expectPodError(await runPod(["--events-backend", "x", "ps"]), 'invalid events backend "x"');
    expectExit(await runPod(["--events-backend", "file", "events", "--stream=false", "--filter", "type=pod"]), 0);
  });
});
