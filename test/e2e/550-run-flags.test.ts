// run/create flags of issue 12 with podman 4.x semantics: --label,
// --label-file and the image's labels (inspect, ps {{.Labels}}, --filter
// label= and label!=), --annotation, --stop-signal, --stop-timeout,
// --env-host, --unsetenv, --unsetenv-all, --tz, --replace, --rmi, --timeout,
// and the /run/.containerenv every container gets. Each error case is a
// one-line Error with a hint, exit 125, and leaves no container behind.
import { beforeAll, describe } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, HEX64, SETUP_TIMEOUT } from "./helpers.ts";
import { useLifecycle, runD, create, track, inspectFmt, inspect, untilStatus, until } from "./lifecycle-helpers.ts";
import { startRegistry, pushLayout, type Registry } from "../fixtures/registry.ts";
import { alpineTarball } from "../fixtures/images.ts";
import { MT, OciLayout, sha256 } from "../fixtures/oci.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("550-run-flags");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

/** Alpine with labels, FROM_IMAGE=1 and `StopSignal: SIGUSR1` in its config, pulled from a registry of its own. */
let labeled = "";

beforeAll(async () => {
  const tarball = alpineTarball();
  if (!tarball) return;
  const reg: Registry = await startRegistry();
  onSuiteEnd(() => reg.stop());
  const dir = makeTempDir("pod-labeled-layout");
  onSuiteEnd(() => removeDir(dir));
  const L = new OciLayout(dir);
  const blob = readFileSync(tarball);
  const layer = L.addBlob(blob, MT.layerGzip);
  const created = "2024-09-06T12:00:00Z";
  const config = L.addBlob(
    JSON.stringify({
      created,
      architecture: "amd64",
      os: "linux",
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=1"],
        Cmd: ["/bin/sh"],
        StopSignal: "SIGUSR1",
        Labels: { maintainer: "pod tests", tier: "image" },
      },
      rootfs: { type: "layers", diff_ids: [`sha256:${sha256(gunzipSync(blob))}`] },
      history: [{ created, created_by: "pod test: alpine with labels" }],
    }),
    MT.ociConfig,
  );
  const manifest = L.addBlob(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [layer] }), MT.ociManifest);
  L.tag(manifest, "labeled");
  await pushLayout(reg, dir, "labeled", "pod-test/labeled", "latest");
  labeled = `${reg.host}/pod-test/labeled:latest`;
  expectExit(await runPod(["pull", "-q", labeled]), 0);
}, SETUP_TIMEOUT);

/** `ps -a --filter name=^PREFIX ARGS --format {{.Names}}`, sorted. */
async function psNames(prefix: string, args: string[] = []): Promise<string[]> {
  const r = await runPod(["ps", "-a", "--filter", `name=^${prefix}`, ...args, "--format", "{{.Names}}"]);
  expectExit(r, 0);
  return lines(r.stdout).sort();
}

/** No container of that name exists (an error case left nothing behind). */
async function expectNoContainer(name: string): Promise<void> {
  expectExit(await runPod(["container", "exists", name]), 1);
}

describe("--label, --label-file, --annotation", () => {
  A("labels over the image's, in inspect and ps; --annotation in inspect", async () => {
    const file = join(pod().tmp, `${safeName("lf")}.labels`);
    writeFileSync(file, "# from a file\n\nfile=yes\ntier=file\n");
    const name = safeName("lab");
    await create(name, ["-l", "app=web", "--label", "empty", "--label-file", file, "--label", "tier=flag", "--annotation", "io.example/a=1", "--annotation", "b=x=y", labeled, "true"]);
    const j = (await inspect(name)) as unknown as { Config: { Labels: Record<string, string>; Annotations: Record<string, string> } };
    expect(j.Config.Labels).toEqual({ maintainer: "pod tests", tier: "flag", app: "web", empty: "", file: "yes" });
    expect(j.Config.Annotations).toEqual({ "io.example/a": "1", b: "x=y" });
    const ps = await runPod(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Labels}}"]);
    expectExit(ps, 0);
    assertOutput(ps.stdout, "map[app:web empty: file:yes maintainer:pod tests tier:flag]\n", "ps {{.Labels}}");
    const one = await runPod(["ps", "-a", "--filter", `name=^${name}$`, "--format", '{{index .Labels "app"}}']);
    assertOutput(one.stdout, "web\n", "ps {{index .Labels}}");
    const json = await runPod(["ps", "-a", "--filter", `name=^${name}$`, "--format", "json"]);
    expect(JSON.parse(json.stdout)[0].Labels).toEqual(j.Config.Labels);
  });

  A("a container without labels: null in inspect and ps json, map[] in a template", async () => {
    const name = safeName("nolab");
    await create(name, ["alpine", "true"]);
    expect(await inspectFmt(name, "{{json .Config.Labels}}")).toBe("null");
    const ps = await runPod(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Labels}}"]);
    assertOutput(ps.stdout, "map[]\n", "ps {{.Labels}}");
  });

  A("ps, rm and stop --filter label=KEY, label=KEY=VALUE, label!=", async () => {
    const p = safeName("lf");
    await create(`${p}-a`, ["-l", "role=db", "-l", "env=prod", "alpine", "true"]);
    await create(`${p}-b`, ["-l", "role=web", "alpine", "true"]);
    await create(`${p}-c`, ["alpine", "true"]);
    expect(await psNames(p, ["--filter", "label=role"])).toEqual([`${p}-a`, `${p}-b`]);
    expect(await psNames(p, ["--filter", "label=role=web"])).toEqual([`${p}-b`]);
    expect(await psNames(p, ["--filter", "label=role", "--filter", "label=env=prod"])).toEqual([`${p}-a`]);
    expect(await psNames(p, ["--filter", "label!=role"])).toEqual([`${p}-c`]);
    expect(await psNames(p, ["--filter", "label!=role=db"])).toEqual([`${p}-b`, `${p}-c`]);
    const rm = await runPod(["rm", "--filter", "label=role=web"]);
    expectExit(rm, 0);
    expect(await psNames(p)).toEqual([`${p}-a`, `${p}-c`]);
  });

  A("bad labels, label files and annotations are refused before anything is created", async () => {
    const name = safeName("badlab");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--label", "=x", "alpine"]), 'invalid label "=x"', "Hint:");
    expectPodError(await runPod(["create", "--name", name, "--label-file", "/nonexistent/labels", "alpine"]), "reading label file /nonexistent/labels: no such file or directory");
    expectPodError(await runPod(["create", "--name", name, "--annotation", "novalue", "alpine"]), "annotations must be formatted KEY=VALUE");
    await expectNoContainer(name);
  });
});

describe("--stop-signal, --stop-timeout", () => {
  /** PID 1 exits 7 on SIGUSR1 and ignores SIGTERM. */
  const usr1 = ["sh", "-c", 'trap "exit 7" USR1; trap "" TERM; while :; do sleep 0.1; done'];

  A("stop sends --stop-signal; inspect shows it as a number", async () => {
    const name = safeName("sig");
    await runD(name, ["--stop-signal", "SIGUSR1", "alpine", ...usr1]);
    expect(await inspectFmt(name, "{{.Config.StopSignal}}")).toBe("10");
    const t0 = Date.now();
    expectExit(await runPod(["stop", name]), 0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("7");
  });

  A("the image's STOPSIGNAL is the default, --stop-signal wins over it", async () => {
    const a = safeName("isig");
    await create(a, [labeled, "true"]);
    expect(await inspectFmt(a, "{{.Config.StopSignal}}")).toBe("10");
    const b = safeName("fsig");
    await create(b, ["--stop-signal", "HUP", labeled, "true"]);
    expect(await inspectFmt(b, "{{.Config.StopSignal}}")).toBe("1");
    const c = safeName("dsig");
    await create(c, ["alpine", "true"]);
    expect(await inspectFmt(c, "{{.Config.StopSignal}} {{.Config.StopTimeout}}")).toBe("15 10");
  });

  A("--stop-timeout is how long stop and restart wait without -t; -t still wins", async () => {
    const name = safeName("stt");
    await runD(name, ["--stop-timeout", "1", "alpine", "sleep", "1000"]);
    expect(await inspectFmt(name, "{{.Config.StopTimeout}}")).toBe("1");
    let t0 = Date.now();
    expectExit(await runPod(["restart", name]), 0);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(await inspectFmt(name, "{{.State.Status}}")).toBe("running");
    t0 = Date.now();
    expectExit(await runPod(["stop", name]), 0);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6000);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("137");
    expectExit(await runPod(["start", name]), 0);
    t0 = Date.now();
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  A("rm -f of a container with --stop-timeout sends its stop signal first", async () => {
    const name = safeName("rmst");
    await runD(name, ["--stop-timeout", "5", "--stop-signal", "USR1", "alpine", ...usr1]);
    const rm = await runPod(["rm", "-f", name]);
    expectExit(rm, 0);
    await expectNoContainer(name);
  });

  A("a bad signal or timeout is refused", async () => {
    const name = safeName("badsig");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--stop-signal", "NOPE", "alpine"]), 'invalid signal "NOPE"');
    expectPodError(await runPod(["create", "--name", name, "--stop-timeout", "soon", "alpine"]), 'invalid argument "soon" for "--stop-timeout" flag');
    expectPodError(await runPod(["create", "--name", name, "--stop-timeout", "-1", "alpine"]), '"--stop-timeout"');
    await expectNoContainer(name);
  });
});

describe("--env-host, --unsetenv, --unsetenv-all", () => {
  A("--env-host copies the host's environment at create; -e and the image still apply", async () => {
    const r = await runPod(["run", "--rm", "--env-host", "-e", "B=flag", labeled, "sh", "-c", 'echo "$POD_E2E_HOSTVAR $B $FROM_IMAGE"'], {
      env: { POD_E2E_HOSTVAR: "from-host", B: "host" },
    });
    expectExit(r, 0);
    assertOutput(r.stdout, "from-host flag 1\n");
  });

  A("--unsetenv drops a default or image variable, -e still sets one", async () => {
    const r = await runPod(["run", "--rm", "--unsetenv", "TERM", "--unsetenv", "FROM_IMAGE", "--unsetenv", "HOME", "-e", "HOME=/mine", labeled, "/usr/bin/env"]);
    expectExit(r, 0);
    const env = lines(r.stdout);
    expect(env.filter((l) => /^(TERM|FROM_IMAGE)=/.test(l))).toEqual([]);
    expect(env).toContain("HOME=/mine");
    expect(env).toContain("container=podman");
  });

  A("--unsetenv-all leaves only -e", async () => {
    const r = await runPod(["run", "--rm", "--unsetenv-all", "-e", "ONLY=1", labeled, "/usr/bin/env"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "ONLY=1\n");
  });
});

describe("--tz", () => {
  A("an IANA zone or local becomes /etc/localtime; inspect shows it", async () => {
    const tokyo = await runPod(["run", "--rm", "--tz", "Asia/Tokyo", "alpine", "date", "+%Z"]);
    expectExit(tokyo, 0);
    assertOutput(tokyo.stdout, "JST\n");
    const local = await runPod(["run", "--rm", "--tz", "local", "alpine", "date", "+%Z"]);
    expectExit(local, 0);
    const host = Bun.spawnSync(["date", "+%Z"]).stdout.toString();
    assertOutput(local.stdout, host, "--tz local is the host's zone");
    const name = safeName("tz");
    await create(name, ["--tz", "Europe/Berlin", "alpine", "true"]);
    expect(await inspectFmt(name, "{{.Config.Timezone}}")).toBe("Europe/Berlin");
  });

  A("an unknown zone is podman's unknown time zone", async () => {
    const name = safeName("badtz");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--tz", "Mars/Olympus", "alpine"]), "finding timezone: unknown time zone Mars/Olympus");
    expectPodError(await runPod(["create", "--name", name, "--tz", "../../etc/passwd", "alpine"]), "unknown time zone");
    await expectNoContainer(name);
  });
});

describe("--replace", () => {
  A("removes the container of that name first (running ones too); create and run", async () => {
    const name = safeName("rep");
    const old = await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["create", "--replace", "--name", name, "alpine", "true"]);
    expectExit(r, 0);
    const id = r.stdout.trim();
    expect(id).toMatch(HEX64);
    expect(id).not.toBe(old);
    expect(await inspectFmt(name, "{{.Id}}")).toBe(id);
    expectExit(await runPod(["container", "exists", old]), 1);
    const run = await runPod(["run", "--replace", "--name", name, "alpine", "echo", "again"]);
    expectExit(run, 0);
    assertOutput(run.stdout, "again\n");
    // no container of that name yet: --replace just creates it
    const fresh = safeName("rep-new");
    await create(fresh, ["--replace", "alpine", "true"]);
  });

  A("without --name it is refused", async () => {
    const before = (await runPod(["ps", "-a", "-q"])).stdout;
    expectPodError(await runPod(["create", "--replace", "alpine", "true"]), "cannot replace container without --name being set");
    expect((await runPod(["ps", "-a", "-q"])).stdout).toBe(before);
  });
});

describe("--rmi", () => {
  A("the name run used goes with the container; an image another container uses stays, with a warning", async () => {
    const img = `localhost/pod-rmi-test:${safeName("t")}`;
    expectExit(await runPod(["tag", "alpine", img]), 0);
    const r = await runPod(["run", "--rmi", img, "echo", "ran"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "ran\n");
    expectExit(await runPod(["image", "exists", img]), 1);
    expectExit(await runPod(["image", "exists", "alpine"]), 0);
    expect(lines((await runPod(["ps", "-a", "--filter", `ancestor=${img}`, "-q"])).stdout)).toEqual([]);

    // the labeled image has one name: removing it would delete it, which the other container's use forbids
    const keeper = safeName("keep");
    await create(keeper, [labeled, "true"]);
    const used = await runPod(["run", "--rmi", labeled, "true"]);
    expectExit(used, 0);
    expect(used.stderr).toContain(`Failed removing image ${labeled}`);
    expectExit(await runPod(["image", "exists", labeled]), 0);
  });

  A("with -d the monitor removes container and image once it exits", async () => {
    const img = `localhost/pod-rmi-test:${safeName("d")}`;
    expectExit(await runPod(["tag", "alpine", img]), 0);
    const name = safeName("rmid");
    await runD(name, ["--rmi", img, "sleep", "0.5"]);
    await until("the container and its image are gone", async () => (await runPod(["image", "exists", img])).code === 1, 15_000);
    await expectNoContainer(name);
  });

  A("create has no --rmi (podman's create does not either)", async () => {
    const r = await runPod(["create", "--rmi", "alpine"]);
    expectExit(r, 125);
    expect(r.stderr).toContain("unknown flag: --rmi");
  });
});

describe("--timeout", () => {
  A("the container is killed after N seconds: run exits 255 and inspect shows -1, as podman", async () => {
    const name = safeName("to");
    track(name);
    const t0 = Date.now();
    const r = await runPod(["run", "--name", name, "--timeout", "1", "alpine", "sleep", "60"]);
    expectExit(r, 255);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited -1");
  });

  A("detached: the monitor kills it; a container that ends in time keeps its own code", async () => {
    const name = safeName("tod");
    await runD(name, ["--timeout", "1", "alpine", "sleep", "60"]);
    await untilStatus(name, "exited", 10_000);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("-1");
    const quick = await runPod(["run", "--rm", "--timeout", "30", "alpine", "sh", "-c", "exit 3"]);
    expectExit(quick, 3);
  });

  A("a bad value is refused", async () => {
    expectPodError(await runPod(["run", "--rm", "--timeout", "1s", "alpine", "true"]), 'invalid argument "1s" for "--timeout" flag');
  });
});

describe("/run/.containerenv", () => {
  A("every container has it: empty, and with --privileged pod's facts (podman's format)", async () => {
    const plain = await runPod(["run", "--rm", "alpine", "sh", "-c", "test -f /run/.containerenv && wc -c < /run/.containerenv"]);
    expectExit(plain, 0);
    assertOutput(plain.stdout.trim(), "0", "an unprivileged container's .containerenv is empty");
    const name = safeName("cenv");
    track(name);
    const r = await runPod(["run", "--name", name, "--privileged", "alpine", "cat", "/run/.containerenv"]);
    expectExit(r, 0);
    const id = await inspectFmt(name, "{{.Id}}");
    const imageId = await inspectFmt(name, "{{.Image}}");
    const image = await inspectFmt(name, "{{.ImageName}}");
    assertOutput(r.stdout, new RegExp(`^engine="pod-[^"]+"\nname="${name}"\nid="${id}"\nimage="${image.replace(/[.]/g, "\\.")}"\nimageid="${imageId}"\nrootless=1\n$`));
  });

  A("a read-only root and a user's /run keep theirs", async () => {
    const ro = await runPod(["run", "--rm", "--read-only", "alpine", "test", "-f", "/run/.containerenv"]);
    expectExit(ro, 0);
    const dir = join(pod().tmp, safeName("run"));
    Bun.spawnSync(["mkdir", "-p", dir]);
    const bound = await runPod(["run", "--rm", "-v", `${dir}:/run`, "alpine", "test", "-e", "/run/.containerenv"]);
    expectExit(bound, 1);
  });
});

describe("--group-add, --shm-size, --hostuser, --passwd-entry", () => {
  A("--group-add takes the image's group names and gids; inspect lists them", async () => {
    const r = await runPod(["run", "--rm", "--group-add", "wheel", "--group-add", "1234,audio", "alpine", "id", "-G"]);
    expectExit(r, 0);
    // alpine: wheel is 10, audio 18; root's memberships stay
    const ids = r.stdout.trim().split(" ");
    for (const g of ["0", "10", "18", "1234"]) expect(ids).toContain(g);
    const plain = await runPod(["run", "--rm", "--user", "guest", "--group-add", "audio", "alpine", "id", "-G"]);
    assertOutput(plain.stdout, "100 18\n", "guest's primary group (users), then the added one");
    const name = safeName("ga");
    await create(name, ["--group-add", "wheel", "alpine", "true"]);
    expect(await inspectFmt(name, "{{json .HostConfig.GroupAdd}}")).toBe('["wheel"]');
  });

  A("--group-add keep-groups keeps the caller's groups (unmapped ones show as nobody); it stands alone", async () => {
    const r = await runPod(["run", "--rm", "--group-add", "keep-groups", "alpine", "cat", "/proc/self/status"]);
    expectExit(r, 0);
    const groups = /^Groups:\s*(.*)$/m.exec(r.stdout)?.[1]?.trim() ?? "";
    const hostGroups = Bun.spawnSync(["id", "-G"]).stdout.toString().trim().split(" ");
    // each host group is there, as root (the user's own gid maps to 0) or as the overflow gid
    expect(groups.split(/\s+/).filter(Boolean).length).toBe(hostGroups.length);
    const name = safeName("kg");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--group-add", "keep-groups", "--group-add", "wheel", "alpine"]), "keep-groups' option is not allowed with any other --group-add options");
    expectPodError(await runPod(["run", "--rm", "--group-add", "nosuchgroup", "alpine", "true"]), "unable to find group nosuchgroup");
    await expectNoContainer(name);
  });

  A("--shm-size sizes /dev/shm; a bad size is refused", async () => {
    const r = await runPod(["run", "--rm", "--shm-size", "16m", "alpine", "df", "-k", "/dev/shm"]);
    expectExit(r, 0);
    expect(lines(r.stdout)[1]?.split(/\s+/)[1]).toBe("16384");
    const def = await runPod(["run", "--rm", "alpine", "df", "-k", "/dev/shm"]);
    expect(lines(def.stdout)[1]?.split(/\s+/)[1]).toBe("65536");
    const name = safeName("shm");
    await create(name, ["--shm-size", "1g", "alpine", "true"]);
    expect(await inspectFmt(name, "{{.HostConfig.ShmSize}}")).toBe(String(2 ** 30));
    for (const bad of ["lots", "0", "-1m"]) expectPodError(await runPod(["run", "--rm", "--shm-size", bad, "alpine", "true"]), `invalid size: '${bad}'`);
  });

  A("--hostuser adds the host's passwd line; an unknown user is refused", async () => {
    const me = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[0] === me)!;
    const r = await runPod(["run", "--rm", "--hostuser", me, "alpine", "grep", `^${me}:`, "/etc/passwd"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${line}\n`);
    expectPodError(await runPod(["run", "--rm", "--hostuser", "no-such-user-pod", "alpine", "true"]), "user: unknown user no-such-user-pod");
  });

  A("--passwd-entry shapes the entry added for a user the image lacks", async () => {
    const r = await runPod(["run", "--rm", "--user", "1234:1234", "--passwd-entry", "$USERNAME:x:$UID:$GID:custom $NAME:$HOME:/bin/false", "alpine", "grep", "^1234:", "/etc/passwd"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "1234:x:1234:1234:custom container user:/:/bin/false\n");
    const known = await runPod(["run", "--rm", "--user", "guest", "--passwd-entry", "$USERNAME:x:$UID:0::/:/bin/false", "alpine", "grep", "-c", ":/bin/false$", "/etc/passwd"]);
    // guest is in the image: nothing is added
    expect(known.stdout.trim()).toBe("0");
  });
});

describe("--ulimit", () => {
  A("sets soft and hard limits the container (and exec) sees; inspect lists them", async () => {
    const r = await runPod(["run", "--rm", "--ulimit", "nofile=512:1024", "--ulimit", "core=0", "alpine", "sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -c"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "512\n1024\n0\n");
    const name = safeName("ul");
    await runD(name, ["--ulimit", "nofile=256:512", "alpine", "sleep", "1000"]);
    const ex = await runPod(["exec", name, "sh", "-c", "ulimit -n"]);
    expectExit(ex, 0);
    assertOutput(ex.stdout, "256\n");
    expect(await inspectFmt(name, "{{json .HostConfig.Ulimits}}")).toBe('[{"Name":"RLIMIT_NOFILE","Soft":256,"Hard":512}]');
    const host = await runPod(["run", "--rm", "--ulimit", "host", "alpine", "sh", "-c", "ulimit -Hn"]);
    expectExit(host, 0);
    const own = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"))![1];
    assertOutput(host.stdout, `${own}\n`, "--ulimit host keeps pod's own limits");
  });

  A("bad values, and a hard limit above the caller's own, are refused before the container exists", async () => {
    const name = safeName("badul");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--ulimit", "files=10", "alpine"]), "invalid ulimit type: files");
    expectPodError(await runPod(["create", "--name", name, "--ulimit", "nofile", "alpine"]), "invalid ulimit argument: nofile");
    expectPodError(await runPod(["create", "--name", name, "--ulimit", "nofile=20:10", "alpine"]), "ulimit soft limit must be less than or equal to hard limit: 20 > 10");
    const own = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"))![1]!;
    if (own !== "unlimited") {
      const above = String(BigInt(own) + 1n);
      expectPodError(await runPod(["create", "--name", name, "--ulimit", `nofile=${above}:${above}`, "alpine"]), "above your own");
    }
    await expectNoContainer(name);
  });
});

describe("--sysctl", () => {
  A("namespaced sysctls are set in the container's own namespaces; inspect lists them", async () => {
    const r = await runPod(["run", "--rm", "--sysctl", "net.ipv4.ping_group_range=0 1000", "--sysctl", "kernel.shmmni=2048", "alpine", "sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/shmmni"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "0\t1000\n2048\n");
    const name = safeName("sc");
    await create(name, ["--sysctl", "fs.mqueue.msg_max=20", "alpine", "cat", "/proc/sys/fs/mqueue/msg_max"]);
    expect(await inspectFmt(name, "{{json .HostConfig.Sysctls}}")).toBe('{"fs.mqueue.msg_max":"20"}');
    const start = await runPod(["start", "--attach", name]);
    expectExit(start, 0);
    assertOutput(start.stdout, "20\n");
  });

  A("others are refused clearly, before anything is created", async () => {
    const name = safeName("badsc");
    track(name);
    expectPodError(await runPod(["create", "--name", name, "--sysctl", "vm.swappiness=10", "alpine"]), "sysctl 'vm.swappiness' is not allowed");
    expectPodError(await runPod(["create", "--name", name, "--sysctl", "kernel.hostname=x", "alpine"]), "sysctl 'kernel.hostname' is not allowed");
    expectPodError(await runPod(["create", "--name", name, "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "alpine"]), "can't be set since Network Namespace set to host");
    expectPodError(await runPod(["create", "--name", name, "--sysctl", "net.ipv4.ip_forward", "alpine"]), "sysctl values must be in the form of KEY=VALUE");
    await expectNoContainer(name);
    // a key this kernel does not have fails at the start, naming it; run leaves nothing behind
    const r = await runPod(["run", "--name", name, "--sysctl", "net.ipv4.no_such_key=1", "alpine", "true"]);
    expectPodError(r, "setting sysctl net.ipv4.no_such_key=1");
    await expectNoContainer(name);
  });
});
