// --restart (issue 16): the monitor starts the container again in place,
// with docker's back-off; the user's stop or kill ends the cycle; start and
// restart begin it again. ps/start --filter restart-policy=, inspect's
// RestartCount and HostConfig.RestartPolicy.
import { describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName, sh } from "./helpers.ts";
import { useLifecycle, runD, create, inspectFmt, until, untilStatus, alive, monitorsOf } from "./lifecycle-helpers.ts";
import { POD } from "./helpers.ts";
import { makeTempDir, sleep } from "../fixtures/proc.ts";

useSuite("620-restart");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const restarts = async (ctr: string) => Number(await inspectFmt(ctr, "{{.RestartCount}}"));

describe("restart policies", () => {
  A("on-failure:3 starts a failing container three times more, with growing delays, then it stays exited with its code", async () => {
    const dir = makeTempDir("pod-restart-");
    const name = safeName("of");
    // each start notes the container's uptime clock: the gaps between starts show the back-off
    await runD(name, ["--restart", "on-failure:3", "-v", `${dir}:/data`, "alpine", "sh", "-c", "cut -d' ' -f1 /proc/uptime >> /data/starts; exit 3"]);
    await until("three restarts", async () => (await restarts(name)) === 3 && (await inspectFmt(name, "{{.State.Status}}")) === "exited", 20_000);
    await sleep(1500);
    expect(await restarts(name), "no fourth start").toBe(3);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("3");
    expect(await inspectFmt(name, "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}")).toBe("on-failure 3");
    const starts = lines(readFileSync(join(dir, "starts"), "utf8")).map(Number);
    expect(starts.length).toBe(4);
    const [g1, g3] = [starts[1]! - starts[0]!, starts[3]! - starts[2]!];
    // 100 ms, 200 ms, 400 ms plus a start each: the third gap is 300 ms longer than the first
    expect(g1, "the first restart waits 100 ms").toBeGreaterThanOrEqual(0.09);
    expect(g3, "the third waits 400 ms").toBeGreaterThanOrEqual(0.39);
    expect(g3, "the delays grow").toBeGreaterThan(g1 + 0.15);
    const ok = safeName("ok");
    await runD(ok, ["--restart", "on-failure", "alpine", "true"]);
    await untilStatus(ok, "exited");
    await sleep(500);
    expect(await restarts(ok), "exit 0 is not a failure").toBe(0);
  });

  A("always starts the container again after its process is killed from outside, the same container; pod stop and kill end the cycle, start begins it again", async () => {
    const name = safeName("al");
    const id = await runD(name, ["--restart", "always", "alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    process.kill(pid, "SIGKILL");
    await until("a new process", async () => {
      const p = Number(await inspectFmt(name, "{{.State.Pid}}"));
      return p > 0 && p !== pid && alive(p);
    });
    expect(await restarts(name)).toBe(1);
    expect(await inspectFmt(name, "{{.Id}}")).toBe(id);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    await sleep(800);
    expect(await inspectFmt(name, "{{.State.Status}}"), "stop ends the cycle").toBe("exited");
    expectExit(await runPod(["start", name]), 0);
    expect(await inspectFmt(name, "{{.State.Status}}")).toBe("running");
    const pid2 = Number(await inspectFmt(name, "{{.State.Pid}}"));
    process.kill(pid2, "SIGKILL");
    await until("started again after start", async () => {
      const p = Number(await inspectFmt(name, "{{.State.Pid}}"));
      return p > 0 && p !== pid2 && alive(p);
    });
    expectExit(await runPod(["kill", name]), 0);
    await untilStatus(name, "exited");
    await sleep(800);
    expect(await inspectFmt(name, "{{.State.Status}}"), "kill ends the cycle").toBe("exited");
  });

  A("ps and start --filter restart-policy=; --rm and a foreground run are refused with --restart; bad policies are refused", async () => {
    const [a, u, n] = [safeName("fa"), safeName("fu"), safeName("fn")];
    await create(a, ["--restart", "always", "alpine", "sleep", "1000"]);
    await create(u, ["--restart", "unless-stopped", "alpine", "sleep", "1000"]);
    await create(n, ["alpine", "sleep", "1000"]);
    const ps = await runPod(["ps", "-a", "--filter", "restart-policy=always", "--format", "{{.Names}}"]);
    expectExit(ps, 0);
    expect(lines(ps.stdout)).toContain(a);
    expect(lines(ps.stdout)).not.toContain(u);
    expect(lines((await runPod(["ps", "-a", "--filter", "restart-policy=no", "--format", "{{.Names}}"])).stdout)).toContain(n);
    // the autostart line of the issue: only `always` containers come up
    expectExit(await runPod(["start", "--all", "--filter", "restart-policy=always"]), 0);
    expect(await inspectFmt(a, "{{.State.Status}}")).toBe("running");
    expect(await inspectFmt(u, "{{.State.Status}}")).toBe("created");
    expectPodError(await runPod(["ps", "--filter", "restart-policy=sometimes"]), "invalid restart policy");
    expectPodError(await runPod(["run", "-d", "--rm", "--restart", "always", "alpine", "true"]), "conflicts with --restart");
    expectPodError(await runPod(["run", "--restart", "always", "alpine", "true"]), "run it with -d");
    expectPodError(await runPod(["create", "--restart", "bogus", "alpine", "true"]), "invalid restart policy: bogus");
    expectPodError(await runPod(["create", "--restart", "always:2", "alpine", "true"]), "only be specified with on-failure");
    expect(pod()).toBeDefined();
  });

  A("generate systemd --new: a unit that creates the container from its create command at each start and removes it at each stop; its commands work as systemd would run them", async () => {
    const name = safeName("new");
    const id = await runD(name, ["--stop-timeout", "1", "--label", "unit=yes", "alpine", "sh", "-c", "echo up; sleep 1000"]);
    expect(JSON.parse((await runPod(["inspect", name])).stdout)[0].Config.CreateCommand.slice(-5)).toEqual(["unit=yes", "alpine", "sh", "-c", "echo up; sleep 1000"]);
    const r = await runPod(["generate", "systemd", "--new", "--name", "--no-header", name]);
    expectExit(r, 0);
    const unit = r.stdout;
    const line = (k: string) => unit.split("\n").filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
    expect(line("ExecStart")[0]).toMatch(new RegExp(` run --cidfile=%t/%n\\.ctr-id --conmon-pidfile=%t/%n\\.pid --replace --rm -d --name ${name} --stop-timeout 1 --label unit=yes alpine sh -c "echo up; sleep 1000"$`));
    expect(line("PIDFile")).toEqual(["%t/%n.pid"]);
    expect(unit).toContain("Type=forking");
    // the unit's commands, with systemd's %t and %n filled in as systemd would, run one after the other
    const t = join(pod().home, "unit-run");
    mkdirSync(t, { recursive: true });
    const fill = (c: string) => c.replaceAll("%t", t).replaceAll("%n", `container-${name}.service`).replaceAll("%%", "%");
    expectExit(await runPod(["rm", "-f", name]), 0);
    for (const c of [...line("ExecStartPre"), ...line("ExecStart")]) expect((await sh(["/bin/sh", "-c", fill(c)], pod().env)).code, c).toBe(0);
    const newId = readFileSync(join(t, `container-${name}.service.ctr-id`), "utf8").trim();
    expect(newId).not.toBe(id);
    expect(Number(readFileSync(join(t, `container-${name}.service.pid`), "utf8").trim()), "PIDFile holds the new container's monitor").toBe(monitorsOf(newId)[0]!);
    expect(await inspectFmt(name, "{{.State.Status}}")).toBe("running");
    for (const c of [...line("ExecStop"), ...line("ExecStopPost")]) expect((await sh(["/bin/sh", "-c", fill(c)], pod().env)).code, c).toBe(0);
    expectExit(await runPod(["container", "exists", name]), 1);
  });

  A("generate systemd: a forking unit whose PIDFile names the monitor, that systemd-analyze verify accepts; --files writes it; bad values are refused", async () => {
    const name = safeName("unit");
    const id = await runD(name, ["--stop-timeout", "7", "alpine", "sleep", "1000"]);
    const r = await runPod(["generate", "systemd", "--name", "--restart-policy", "always", name]);
    expectExit(r, 0);
    const unit = r.stdout;
    expect(unit).toContain(`# container-${name}.service`);
    expect(unit).toMatch(new RegExp(`^ExecStart=\\S*pod .*start ${name}$`, "m"));
    expect(unit).toContain(`ExecStop=`);
    expect(unit).toContain(" stop -t 7 ");
    expect(unit).toContain("Restart=always");
    expect(unit).toContain("Type=forking");
    const pidFile = /^PIDFile=(.+)$/m.exec(unit)![1]!;
    expect(Number(readFileSync(pidFile, "utf8").trim()), "the PIDFile holds the monitor's pid").toBe(monitorsOf(id)[0]!);
    // pod runs in its home here: --files writes into the current directory
    const dir = pod().home;
    const f = await runPod(["generate", "systemd", "--files", "--name", "--no-header", name]);
    expectExit(f, 0);
    const path = f.stdout.trim();
    expect(path).toBe(join(dir, `container-${name}.service`));
    expect(readFileSync(path, "utf8")).not.toContain("# autogenerated");
    const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
    if (!analyze) console.log("skip: systemd-analyze verify: systemd is not installed here");
    else {
      const v = Bun.spawnSync([analyze, "verify", path], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SYSTEMD_LOG_LEVEL: "err" } });
      const errors = v.stderr.toString().split("\n").filter((l) => l.includes(`container-${name}.service`));
      expect(errors, v.stderr.toString()).toEqual([]);
    }
    expectPodError(await runPod(["generate", "systemd", "--restart-policy", "sometimes", name]), "not a valid restart policy");

    expectPodError(await runPod(["generate", "systemd", "nosuch"]), "no such container");
    expect(POD).toBeTruthy();
  });
});
