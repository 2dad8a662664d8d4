// Volumes and secrets as podman 4 scripts use them: `volume rm -t`, `volume
// prune --filter`, `volume create --ignore`, `volume mount`/`unmount`
// (refused rootless, with podman's text), and `pod secret
// create|ls|inspect|rm|exists` with `run --secret` (a read-only file at
// /run/secrets/NAME, or a variable), whose data appears nowhere in inspect
// or the store's container records.
import { beforeAll, describe } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, it, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, SETUP_TIMEOUT, walk, sh, POD } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("590-volumes-secrets");

const B = requires("subuid");
const T = it;

let reg: Registry;
let tmp: string;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  await pushFixture(reg, "image-volume");
  tmp = makeTempDir("pod-590-");
  onSuiteEnd(() => removeDir(tmp));
}, SETUP_TIMEOUT);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await runPod(args, input === undefined ? {} : { input });
  expectExit(r, 0);
  return r.stdout;
}

describe("volume flags", () => {
  T("create --ignore returns the existing volume, without it the name is in use", async () => {
    const name = safeName("vol");
    await ok(["volume", "create", "--label", "a=1", name]);
    assertOutput(await ok(["volume", "create", "--ignore", name]), `${name}\n`, "create --ignore");
    assertOutput(await ok(["volume", "inspect", "--format", "{{.Labels}}", name]), "map[a:1]\n", "labels kept");
    expectPodError(await runPod(["volume", "create", name]), "volume already exists");
    await ok(["volume", "rm", name]);
  });

  B("-o type=tmpfs: a fresh tmpfs per container, with o= size, uid, gid, mode and flags; inspect shows the options", async () => {
    const name = safeName("vtmp");
    await ok(["volume", "create", "-o", "type=tmpfs", "-o", "device=scratch", "-o", "o=size=2m,uid=100,gid=101,mode=0750,nodev,noexec", name]);
    const [info] = JSON.parse(await ok(["volume", "inspect", name]));
    expect(info.Options).toEqual({ type: "tmpfs", device: "scratch", o: "size=2m,uid=100,gid=101,mode=0750,nodev,noexec" });
    const probe = `stat -c '%u %g %a' /scratch; grep ' /scratch ' /proc/mounts; touch /scratch/left-behind`;
    const out = await ok(["run", "--rm", "-v", `${name}:/scratch`, "busybox", "sh", "-c", probe]);
    expect(out).toStartWith("100 101 750\nscratch /scratch tmpfs ");
    expect(out).toMatch(/nodev/);
    expect(out).toMatch(/noexec/);
    expect(out).toMatch(/size=2048k/);
    // fresh for the next container
    assertOutput(await ok(["run", "--rm", "-v", `${name}:/scratch`, "busybox", "ls", "-A", "/scratch"]), "", "a new tmpfs");
    expectPodError(await runPod(["volume", "export", "-o", join(tmp, "t.tar"), name]), "tmpfs volume");
    await ok(["volume", "rm", name]);
  });

  B("-o type=bind,device=DIR binds a host directory (o=ro read-only); bad options are refused", async () => {
    const name = safeName("vbind");
    const dir = join(tmp, "bind-dev");
    await sh(["mkdir", "-p", dir]);
    writeFileSync(join(dir, "host.txt"), "from host\n");
    await ok(["volume", "create", "-o", "type=bind", "-o", `device=${dir}`, name]);
    assertOutput(await ok(["run", "--rm", "-v", `${name}:/d`, "busybox", "sh", "-c", "cat /d/host.txt; echo back > /d/ctr.txt"]), "from host\n", "bind");
    assertOutput(readFileSync(join(dir, "ctr.txt"), "utf8"), "back\n", "written through to the host");
    const ro = safeName("vbro");
    await ok(["volume", "create", "-o", "type=none", "-o", `device=${dir}`, "-o", "o=bind,ro", ro]);
    expect((await runPod(["run", "--rm", "-v", `${ro}:/d`, "busybox", "touch", "/d/x"])).code).not.toBe(0);
    await ok(["volume", "rm", name, ro]);

    expectPodError(await runPod(["volume", "create", "-o", "size=1g", safeName("vb")]), "invalid mount option size for driver 'local'");
    expectPodError(await runPod(["volume", "create", "-o", "type=ext4", "-o", "device=/dev/sda1", safeName("vb")]), 'volume type "ext4" is not supported');
    expectPodError(await runPod(["volume", "create", "-o", "type=bind", "-o", `device=${join(tmp, "absent")}`, safeName("vb")]), "no such file or directory");
    expectPodError(await runPod(["volume", "create", "-o", "type=tmpfs", "-o", "o=sync", safeName("vb")]), "invalid mount option sync");
  });

  T("prune --filter removes only matching unused volumes", async () => {
    const [a, b, c] = [safeName("pa"), safeName("pb"), safeName("pc")];
    await ok(["volume", "create", "--label", "tmp=1", a]);
    await ok(["volume", "create", "--label", "tmp=2", b]);
    await ok(["volume", "create", c]);
    assertOutput(await ok(["volume", "prune", "-f", "--filter", "label=tmp=1"]), `${a}\n`, "label=");
    assertOutput(await ok(["volume", "prune", "-f", "--filter", "label!=tmp", "--filter", "until=1h"]), "", "until=1h keeps new volumes");
    assertOutput(await ok(["volume", "prune", "-f", "--filter", "label!=tmp"]), `${c}\n`, "label!=");
    expect(lines(await ok(["volume", "ls", "-q"]))).toContain(b);
    expectPodError(await runPod(["volume", "prune", "-f", "--filter", "name=x"]), "not a volume prune filter");
    expectPodError(await runPod(["volume", "prune", "-f", "--filter", "until=soon"]), "failed to parse value as time or duration");
    await ok(["volume", "rm", b]);
  });

  B("rm -f -t stops a running user with its stop signal before removing it; -t without -f is refused", async () => {
    const name = safeName("vt");
    const ctr = safeName("vt-ctr");
    await ok(["run", "-d", "--name", ctr, "-v", `${name}:/data`, "busybox", "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done"]);
    expectPodError(await runPod(["volume", "rm", "-t", "2", name]), "--force option must be specified to use the --time option");
    expectPodError(await runPod(["volume", "rm", "-f", "-t", "x", name]), "invalid --time");
    const r = await runPod(["volume", "rm", "-f", "-t", "5", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${name}\n`, "rm -f -t");
    // it ended by its TERM trap (exit 3), not by a SIGKILL
    const died = await ok(["events", "--stream=false", "--filter", `container=${ctr}`, "--filter", "event=died", "--format", "{{.ContainerExitCode}}"]);
    assertOutput(died, "3\n", "died of its stop signal");
    expectExit(await runPod(["container", "exists", ctr]), 1);
    expectExit(await runPod(["volume", "exists", name]), 1);
  });

  B("export writes a tar of the volume (owners of subordinate ids kept) to -o or stdout; import unpacks one from a file or stdin", async () => {
    const [src, dst, dst2] = [safeName("ve"), safeName("vi"), safeName("vi2")];
    await ok(["run", "--rm", "-v", `${src}:/data`, "busybox", "sh", "-c", "mkdir /data/d && echo hello > /data/d/f && chown -R 100:101 /data/d && ln -s d/f /data/link"]);
    const file = join(tmp, "vol.tar");
    assertOutput(await ok(["volume", "export", "-o", file, src]), "", "export -o prints nothing");
    const listing = await sh(["tar", "-tvf", file, "--numeric-owner"]);
    expect(listing.stdout).toMatch(/100\/101 .*d\/f/);
    expect(listing.stdout).toMatch(/link -> d\/f/);
    const piped = await runPod(["volume", "export", src]);
    expectExit(piped, 0);
    expect(piped.stdout.length).toBeGreaterThan(512);

    await ok(["volume", "create", dst]);
    assertOutput(await ok(["volume", "import", dst, file]), "", "import prints nothing");
    assertOutput(await ok(["run", "--rm", "-v", `${dst}:/data`, "busybox", "sh", "-c", "stat -c '%u %g' /data/d/f; cat /data/link"]), "100 101\nhello\n", "imported from a file");
    await ok(["volume", "create", dst2]);
    await ok(["volume", "import", dst2, "-"], readFileSync(file, "latin1"));
    assertOutput(await ok(["run", "--rm", "-v", `${dst2}:/data`, "busybox", "cat", "/data/d/f"]), "hello\n", "imported from stdin");

    expectPodError(await runPod(["volume", "export", "-o", file, "nosuch"]), "no such volume");
    expectPodError(await runPod(["volume", "import", "nosuch", file]), "no such volume");
    expectPodError(await runPod(["volume", "import", dst, join(tmp, "nope.tar")]), "no such file or directory");
    expectPodError(await runPod(["volume", "import", dst]), "requires VOLUME FILE");
    await ok(["volume", "rm", src, dst, dst2]);
  });

  T("mount and unmount are refused rootless with podman's text and a hint", async () => {
    const name = safeName("vm");
    await ok(["volume", "create", name]);
    for (const verb of ["mount", "unmount"]) {
      const r = await runPod(["volume", verb, name]);
      expectPodError(r, `cannot run command "pod volume ${verb}" in rootless mode, must execute \`pod unshare\` first`, "Hint: pod unshare");
    }
    // inside `pod unshare`, as the hint says: mount prints the mount point, unmount the name
    assertOutput(await ok(["unshare", POD, "volume", "mount", name]), `${join(pod().storage, "volumes", name, "_data")}\n`, "mount in unshare");
    assertOutput(await ok(["unshare", POD, "volume", "unmount", name]), `${name}\n`, "unmount in unshare");
    expectExit(await runPod(["unshare", POD, "volume", "mount", "nosuch"]), 1);
    await ok(["volume", "rm", name]);
  });
});

describe("pod secret", () => {
  T("create from a file, stdin and --env; ls, inspect, exists, rm", async () => {
    const [a, b, c] = [safeName("sa"), safeName("sb"), safeName("sc")];
    const file = join(tmp, "pass");
    writeFileSync(file, "from-file");
    const idA = (await ok(["secret", "create", a, file])).trim();
    expect(idA).toMatch(/^[0-9a-f]{25}$/);
    const idB = (await ok(["secret", "create", b, "-"], "from-stdin")).trim();
    const idC = (await runPod(["secret", "create", "--env", c, "MY_SECRET_VAR"], { env: { MY_SECRET_VAR: "from-env" } })).stdout.trim();
    expect(idC).toMatch(/^[0-9a-f]{25}$/);
    expectPodError(await runPod(["secret", "create", a, file]), `${a}: secret name in use`);
    expectPodError(await runPod(["secret", "create", safeName("se"), join(tmp, "nope")]), "no such file or directory");
    expectPodError(await runPod(["secret", "create", safeName("se"), "-"], { input: "" }), "secret data must be larger than 0");
    expectPodError(await runPod(["secret", "create", "--driver", "pass", safeName("se"), file]));
    expect((await ok(["secret", "create", "--driver", "file", safeName("sd"), file])).trim()).toMatch(/^[0-9a-f]{25}$/);
    expectPodError(await runPod(["secret", "create", ".bad", file]));

    const table = lines(await ok(["secret", "ls"]));
    expect(table[0]).toMatch(/^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$/);
    expect(table.some((l) => new RegExp(`^${idA}\\s+${a}\\s+file\\s+.* ago\\s+.* ago$`).test(l))).toBe(true);
    expect(lines(await ok(["secret", "ls", "-q"]))).toEqual(expect.arrayContaining([idA, idB, idC]));
    assertOutput(await ok(["secret", "ls", "--filter", `name=${b}`, "--format", "{{.Name}} {{.Driver}}"]), `${b} file\n`, "ls --filter --format");
    assertOutput(await ok(["secret", "ls", "--noheading", "--filter", `id=${idC}`, "--format", "table {{.ID}}"]), `${idC}\n`, "ls --noheading");

    const [info] = JSON.parse(await ok(["secret", "inspect", a]));
    expect(info.ID).toBe(idA);
    expect(info.Spec.Name).toBe(a);
    expect(info.Spec.Driver.Name).toBe("file");
    expect(Object.keys(info)).toEqual(["ID", "CreatedAt", "UpdatedAt", "Spec"]);
    assertOutput(await ok(["secret", "inspect", "--format", "{{.Spec.Name}}", idB.slice(0, 8)]), `${b}\n`, "inspect by ID prefix");
    const missingOne = await runPod(["secret", "inspect", a, "nosuch"]);
    expectPodError(missingOne, 'no secret with name or id "nosuch": no such secret');
    expect(JSON.parse(missingOne.stdout)).toHaveLength(1);

    expectExit(await runPod(["secret", "exists", a]), 0);
    expectExit(await runPod(["secret", "exists", "nosuch"]), 1);

    // the store: 0600 files, and the data in the driver's file only
    const dir = join(pod().storage, "secrets");
    for (const f of ["secrets.json", "filedriver/secretsdata.json"]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "secrets.json"), "utf8")).not.toContain("from-file");

    assertOutput(await ok(["secret", "rm", a]), `${idA}\n`, "rm");
    expectPodError(await runPod(["secret", "rm", a]), "no such secret");
    assertOutput(await ok(["secret", "rm", "-i", a, b]), `${idB}\n`, "rm -i");
    expectPodError(await runPod(["secret", "rm", "-a", c]), "--all");
    expect(lines(await ok(["secret", "rm", "-a"]))).toContain(idC);
    assertOutput(await ok(["secret", "ls", "-q"]), "", "all gone");
  });

  B("secret create --label/-l and --driver-opts show in inspect's Spec; inspect --pretty is podman's report; bad values are refused", async () => {
    const name = safeName("lab");
    await ok(["secret", "create", "-l", "a=b", "--label", "c", "--driver-opts", "foo=bar,x=y", name, "-"], "v");
    const [info] = JSON.parse(await ok(["secret", "inspect", name]));
    expect(info.Spec.Labels).toEqual({ a: "b", c: "" });
    expect(info.Spec.Driver.Options.foo).toBe("bar");
    expect(info.Spec.Driver.Options.x).toBe("y");
    expect(info.Spec.Driver.Options.path).toContain("filedriver");
    const pretty = await ok(["secret", "inspect", "--pretty", name]);
    expect(pretty).toMatch(new RegExp(`^ID:              ${info.ID}\nName:              ${name}\nLabels:\n - a=b\n - c\nDriver:            file\nCreated at:        \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? [+-]\\d{4} \\S+\nUpdated at:        `));
    expectPodError(await runPod(["secret", "inspect", "--pretty", "--format", "json", name]), "cannot be used together");
    expectPodError(await runPod(["secret", "create", "--driver-opts", "novalue", safeName("bad"), "-"], { input: "v" }), "key=value");
    expectPodError(await runPod(["secret", "create", "--driver-opts", "path=/tmp/elsewhere", safeName("bad"), "-"], { input: "v" }), "path=");
    await ok(["secret", "rm", name]);
  });

  B("run --secret: a read-only file at /run/secrets/NAME, target/uid/gid/mode, and env; the value is nowhere in inspect or the records", async () => {
    const name = safeName("db");
    const value = `v4lue-${safeName("x")}`;
    await ok(["secret", "create", name, "-"], value);
    assertOutput(await ok(["run", "--rm", "--secret", name, "busybox", "cat", `/run/secrets/${name}`]), value, "mount");
    const ro = await runPod(["run", "--rm", "--secret", name, "busybox", "sh", "-c", `echo x > /run/secrets/${name}`]);
    expect(ro.code).not.toBe(0);
    assertOutput(
      await ok(["run", "--rm", "--secret", `${name},target=db.txt,uid=100,gid=101,mode=0400`, "busybox", "stat", "-c", "%u %g %a", "/run/secrets/db.txt"]),
      "100 101 400\n",
      "uid/gid/mode",
    );
    assertOutput(await ok(["run", "--rm", "--secret", `${name},target=/etc/app.key`, "busybox", "cat", "/etc/app.key"]), value, "absolute target");
    assertOutput(await ok(["run", "--rm", "--secret", `${name},type=env,target=DB_PASS`, "busybox", "sh", "-c", "echo $DB_PASS"]), `${value}\n`, "env");

    const ctr = safeName("sec-ctr");
    await ok(["run", "-d", "--name", ctr, "--secret", `${name},type=env,target=DB_PASS`, "--secret", name, "busybox", "sleep", "100"]);
    assertOutput(await ok(["exec", ctr, "cat", `/run/secrets/${name}`]), value, "exec sees the file");
    expect(await ok(["inspect", ctr])).not.toContain(value);
    const records = walk(join(pod().storage, "containers")).entries.filter((e) => e.stat.isFile() && e.path.endsWith(".json"));
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(readFileSync(r.path, "utf8")).not.toContain(value);
    await ok(["rm", "-f", "-t", "0", ctr]);

    expectPodError(await runPod(["run", "--rm", "--secret", "nosuch", "busybox", "true"]), 'no secret with name or id "nosuch"');
    expectPodError(await runPod(["run", "--rm", "--secret", `${name},type=env,mode=0400`, "busybox", "true"]), "apply to type=mount only");
    expectPodError(await runPod(["run", "--rm", "--secret", `${name},type=file`, "busybox", "true"]), "type must be mount or env");
    expectPodError(await runPod(["run", "--rm", "--secret", `${name},bogus=1`, "busybox", "true"]), 'unknown option "bogus"');

    // removed after create: the next start fails, naming it
    const later = safeName("sec-later");
    await ok(["create", "--name", later, "--secret", name, "busybox", "true"]);
    await ok(["secret", "rm", name]);
    expectPodError(await runPod(["start", later]), "no longer exists");
    await ok(["rm", later]);
  });
});

describe("run --image-volume", () => {
  B("bind (the default) gives each image VOLUME an anonymous volume filled from the image; tmpfs a tmpfs; ignore nothing", async () => {
    const before = new Set(lines(await ok(["volume", "ls", "-q"])));
    const ctr = safeName("iv");
    await ok(["create", "--name", ctr, "image-volume", "sh", "-c", "cat /srv/data/seed; grep ' /srv/data ' /proc/mounts | cut -d' ' -f3"]);
    const made = lines(await ok(["volume", "ls", "-q"])).filter((v) => !before.has(v));
    expect(made).toHaveLength(1);
    expect(JSON.parse(await ok(["volume", "inspect", made[0]!]))[0].Anonymous).toBe(true);
    const out = await ok(["start", "-a", ctr]);
    expect(out).toStartWith("seeded\n");
    await ok(["rm", "-v", ctr]);
    expectExit(await runPod(["volume", "exists", made[0]!]), 1);

    assertOutput(await ok(["run", "--rm", "--image-volume", "tmpfs", "image-volume", "sh", "-c", "ls -A /srv/data; grep ' /srv/data ' /proc/mounts | cut -d' ' -f3"]), "tmpfs\n", "tmpfs");
    assertOutput(await ok(["run", "--rm", "--image-volume", "ignore", "image-volume", "sh", "-c", "cat /srv/data/seed; grep -c ' /srv/data ' /proc/mounts || true"]), "seeded\n0\n", "ignore");
    expect(lines(await ok(["volume", "ls", "-q"])).filter((v) => !before.has(v))).toEqual([]);
    // a mount of the user's own at that path wins
    const own = safeName("ivown");
    assertOutput(await ok(["run", "--rm", "-v", `${own}:/srv/data`, "image-volume", "cat", "/srv/data/seed"]), "seeded\n", "named volume");
    expect(lines(await ok(["volume", "ls", "-q"])).filter((v) => !before.has(v))).toEqual([own]);
    await ok(["volume", "rm", own]);
    expectExit(await runPod(["run", "--rm", "--image-volume", "nope", "image-volume", "true"]), 125);
  });
});
