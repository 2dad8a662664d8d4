// pod build against alpine from the test registry: the built image run, its
// config, multi-stage COPY --from with an unneeded stage skipped, the cache
// (mtime-only changes hit, changed bytes rebuild from that step on, a
// --build-arg from the first step that reads it), the ignore file, whiteouts,
// a failing RUN that tags nothing and leaves no container, RUN --mount cache,
// ADD of a local tar, a malformed Containerfile, -v and --secret for RUN
// (nothing of them left in the layers), --squash-all and --format docker.
import { describe } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, lines, sh, HEX64 } from "./helpers.ts";
import { useLifecycle } from "./lifecycle-helpers.ts";

useSuite("740-build");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
let n = 0;

/** A fresh context directory with these files (name → content). */
function context(files: Record<string, string>): string {
  const dir = join(pod().tmp, `ctx-${++n}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function build(dir: string, ...args: string[]) {
  return runPod(["build", ...args, dir], { timeoutMs: 300_000 });
}

/** The saved image's layers, each as the list of its tar's entries. */
async function savedLayers(ref: string): Promise<string[][]> {
  const save = join(pod().tmp, `save-${++n}`);
  mkdirSync(save);
  expectExit(await runPod(["save", "--format", "docker-archive", "-o", join(save, "img.tar"), ref]), 0);
  expect((await sh(["tar", "-xf", join(save, "img.tar"), "-C", save])).code).toBe(0);
  const manifest = JSON.parse(readFileSync(join(save, "manifest.json"), "utf8"));
  return Promise.all(manifest[0].Layers.map(async (l: string) => lines((await sh(["tar", "-tf", join(save, l)])).stdout)));
}

/** The STEP lines that were taken from the cache: the text of the step before each "Using cache". */
function cachedSteps(stdout: string): string[] {
  const ls = lines(stdout);
  const out: string[] = [];
  ls.forEach((l, i) => {
    if (l.startsWith("--> Using cache ")) out.push(ls[i - 1]!.replace(/^(\[\d+\/\d+\] )?STEP \d+\/\d+: /, ""));
  });
  return out;
}

async function noContainersLeft() {
  const ps = await runPod(["ps", "-a", "-q"]);
  expectExit(ps, 0);
  expect(ps.stdout.trim()).toBe("");
}

describe("pod build", () => {
  A("builds an image that runs with the config the Containerfile gave it", async () => {
    const dir = context({
      "greet.txt": "hello\n",
      Containerfile: [
        "FROM alpine",
        "ARG WHO=world",
        "ENV GREETING=hi PATH_EXTRA=/opt/bin",
        "LABEL org.example.kind=test",
        "WORKDIR /app",
        "COPY greet.txt .",
        'RUN echo "$GREETING $WHO" > out && adduser -D -u 1234 builder',
        "RUN <<EOF",
        "echo heredoc-ran > /app/heredoc",
        "EOF",
        "COPY <<EOF /app/inline.txt",
        "inline ${GREETING}",
        "EOF",
        "USER builder",
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["cat /app/out /app/greet.txt /app/heredoc /app/inline.txt; id -u; pwd"]',
        "",
      ].join("\n"),
    });
    const r = await build(dir, "-t", "built:1");
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out[0]).toBe("STEP 1/12: FROM alpine");
    expect(out).toContain("COMMIT built:1");
    expect(out).toContain("Successfully tagged localhost/built:1");
    expect(out.at(-1)).toMatch(HEX64);
    const run = await runPod(["run", "--rm", "built:1"]);
    expectExit(run, 0);
    expect(lines(run.stdout)).toEqual(["hi world", "hello", "heredoc-ran", "inline hi", "1234", "/app"]);
    const img = JSON.parse((await runPod(["image", "inspect", "built:1"])).stdout)[0];
    expect(img.Id).toBe(out.at(-1));
    expect(img.Config.Labels["org.example.kind"]).toBe("test");
    expect(img.Config.Env).toContain("GREETING=hi");
    expect(img.Config.User).toBe("builder");
    expect(img.Config.WorkingDir).toBe("/app");
    const hist = await runPod(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "built:1"]);
    expectExit(hist, 0);
    expect(hist.stdout).toContain("|1 WHO=world /bin/sh -c echo \"$GREETING $WHO\" > out");
    expect(hist.stdout).toContain("/bin/sh -c #(nop) USER builder");
    await noContainersLeft();
  });

  A("multi-stage: COPY --from a stage, and a stage the target does not need is not run", async () => {
    const dir = context({
      Containerfile: [
        "FROM alpine AS unused",
        "RUN echo this stage must not run && exit 9",
        "FROM alpine AS builder",
        "RUN mkdir -p /out/bin && echo tool > /out/bin/tool && echo one > /one",
        "FROM alpine",
        "COPY --from=builder /out /opt/",
        "COPY --from=builder /one /single.txt",
        'CMD ["sh", "-c", "cat /opt/bin/tool /single.txt"]',
        "",
      ].join("\n"),
    });
    const r = await build(dir, "-t", "multi");
    expectExit(r, 0);
    expect(r.stdout).not.toContain("must not run");
    const run = await runPod(["run", "--rm", "multi"]);
    expectExit(run, 0);
    expect(lines(run.stdout)).toEqual(["tool", "one"]);
    const target = await build(dir, "--target", "builder", "-t", "builder-only");
    expectExit(target, 0);
    const ls = await runPod(["run", "--rm", "builder-only", "cat", "/out/bin/tool"]);
    expect(ls.stdout.trim()).toBe("tool");
  });

  A("the cache: a rebuild is all cache hits, an mtime change keeps them, changed bytes rebuild that step and the later ones", async () => {
    const dir = context({
      "a.txt": "first\n",
      "b.txt": "bee\n",
      Containerfile: ["FROM alpine", "RUN echo base > /base", "COPY a.txt /a.txt", "RUN cat /a.txt > /copy", "COPY b.txt /b.txt", ""].join("\n"),
    });
    const first = await build(dir, "-t", "cached");
    expectExit(first, 0);
    expect(cachedSteps(first.stdout)).toEqual([]);
    const again = await build(dir, "-t", "cached");
    expectExit(again, 0);
    expect(cachedSteps(again.stdout)).toEqual(["RUN echo base > /base", "COPY a.txt /a.txt", "RUN cat /a.txt > /copy", "COPY b.txt /b.txt"]);
    expect(lines(again.stdout).at(-1)).toBe(lines(first.stdout).at(-1));
    utimesSync(join(dir, "a.txt"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const touched = await build(dir, "-t", "cached");
    expect(cachedSteps(touched.stdout)).toHaveLength(4);
    writeFileSync(join(dir, "a.txt"), "second\n");
    const changed = await build(dir, "-t", "cached");
    expectExit(changed, 0);
    expect(cachedSteps(changed.stdout)).toEqual(["RUN echo base > /base"]);
    const run = await runPod(["run", "--rm", "cached", "cat", "/copy"]);
    expect(run.stdout.trim()).toBe("second");
    const noCache = await build(dir, "--no-cache", "-t", "cached");
    expect(cachedSteps(noCache.stdout)).toEqual([]);
  });

  A("a --build-arg invalidates only from the first step that reads it", async () => {
    const dir = context({ Containerfile: ["FROM alpine", "RUN echo before > /before", "ARG V=1", "LABEL unrelated=yes", "RUN echo $V > /v", ""].join("\n") });
    expectExit(await build(dir, "--build-arg", "V=1", "-t", "args"), 0);
    const r = await build(dir, "--build-arg", "V=2", "-t", "args");
    expectExit(r, 0);
    expect(cachedSteps(r.stdout)).toEqual(["RUN echo before > /before", "LABEL unrelated=yes"]);
    expect((await runPod(["run", "--rm", "args", "cat", "/v"])).stdout.trim()).toBe("2");
  });

  A("the ignore file keeps files out of COPY, with ! exceptions", async () => {
    const dir = context({
      "keep.txt": "k",
      "secret.key": "s",
      "logs/a.log": "a",
      "logs/important.log": "i",
      ".containerignore": "*.key\nlogs/*.log\n!logs/important.log\n",
      Containerfile: "FROM alpine\nCOPY . /ctx/\n",
    });
    expectExit(await build(dir, "-t", "ignored"), 0);
    const r = await runPod(["run", "--rm", "ignored", "find", "/ctx", "-type", "f"]);
    expect(lines(r.stdout).sort()).toEqual(["/ctx/.containerignore", "/ctx/Containerfile", "/ctx/keep.txt", "/ctx/logs/important.log"]);
    // an ignored file named as a source does not exist
    const dir2 = context({ "secret.key": "s", ".dockerignore": "*.key\n", Containerfile: "FROM alpine\nCOPY secret.key /\n" });
    const bad = await build(dir2, "-t", "nope");
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("no such file or directory");
  });

  A("deleting a lower layer's file gives a whiteout the built image shows", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN rm /etc/motd && rm -rf /etc/apk/protected_paths.d\n" });
    expectExit(await build(dir, "-t", "wh"), 0);
    const r = await runPod(["run", "--rm", "wh", "sh", "-c", "ls /etc/motd /etc/apk/protected_paths.d 2>&1; echo done"]);
    expect(r.stdout).toContain("No such file or directory");
    const save = join(pod().tmp, "wh-save");
    mkdirSync(save);
    expectExit(await runPod(["save", "-q", "-o", join(save, "a.tar"), "wh"]), 0);
    expect((await sh(["tar", "-xf", join(save, "a.tar"), "-C", save])).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(save, "manifest.json"), "utf8"));
    const entries = lines((await sh(["tar", "-tf", join(save, manifest[0].Layers.at(-1))])).stdout);
    expect(entries).toContain("etc/.wh.motd");
  });

  A("a failing RUN: the step's exit code, nothing tagged, no container left, the steps before it cached", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN echo ok > /ok\nRUN exit 7\nRUN echo never\n" });
    const r = await build(dir, "-t", "failing");
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Error: building at STEP "RUN exit 7": while running runtime: exit status 7');
    expect(r.stdout).not.toContain("never");
    expect((await runPod(["image", "exists", "failing"])).code).toBe(1);
    await noContainersLeft();
    writeFileSync(join(dir, "Containerfile"), "FROM alpine\nRUN echo ok > /ok\nRUN exit 0\n");
    const fixed = await build(dir, "-t", "failing");
    expectExit(fixed, 0);
    expect(cachedSteps(fixed.stdout)).toEqual(["RUN echo ok > /ok"]);
  });

  A("RUN --mount=type=cache keeps its contents between builds", async () => {
    const dir = context({ Containerfile: "FROM alpine\nARG N\nRUN --mount=type=cache,target=/cache echo $N >> /cache/runs && cat /cache/runs > /seen\n" });
    expectExit(await build(dir, "--build-arg", "N=1", "-t", "cm"), 0);
    expectExit(await build(dir, "--build-arg", "N=2", "-t", "cm"), 0);
    const r = await runPod(["run", "--rm", "cm", "sh", "-c", "cat /seen; ls /cache 2>/dev/null | wc -l"]);
    expect(lines(r.stdout)).toEqual(["1", "2", "0"]);
  });

  A("image prune drops the cache entries of the images it removed; system prune --build removes the RUN cache mounts, whoever owns their files", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN --mount=type=cache,target=/cache touch /cache/f && chown 123:123 /cache/f && mkdir -p /cache/d && chown 5:5 /cache/d && echo built > /built\n" });
    expectExit(await build(dir, "-t", "pruned"), 0);
    const index = join(pod().storage, "build-cache.json");
    const mounts = join(pod().storage, "build-cache", "mounts");
    expect(Object.keys(JSON.parse(readFileSync(index, "utf8"))).length).toBeGreaterThan(0);
    expectExit(await runPod(["rmi", "pruned"]), 0);
    expectExit(await runPod(["image", "prune", "-a", "-f"]), 0);
    const left = Object.values(JSON.parse(readFileSync(index, "utf8"))) as { image: string }[];
    const images = lines((await runPod(["images", "-a", "-q", "--no-trunc"])).stdout).map((i) => i.replace(/^sha256:/, ""));
    for (const e of left) expect(images).toContain(e.image);
    expect(readdirSync(mounts).length).toBe(1);
    const r = await runPod(["system", "prune", "-a", "-f", "--build"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("Total reclaimed space:");
    expect(readdirSync(mounts)).toEqual([]);
    // the next build runs the step again (its image went) and starts with an empty cache mount
    const again = await build(dir, "-t", "pruned");
    expectExit(again, 0);
    expect(cachedSteps(again.stdout)).toEqual([]);
  });

  A("ADD unpacks a local tar archive; COPY does not", async () => {
    const dir = context({ "payload/x/y.txt": "inside\n" });
    expect((await sh(["tar", "-czf", join(dir, "p.tar.gz"), "-C", join(dir, "payload"), "."])).code).toBe(0);
    writeFileSync(join(dir, "Containerfile"), "FROM alpine\nADD p.tar.gz /unpacked/\nCOPY p.tar.gz /copied/\n");
    expectExit(await build(dir, "-t", "added"), 0);
    const r = await runPod(["run", "--rm", "added", "sh", "-c", "cat /unpacked/x/y.txt; ls /copied"]);
    expect(lines(r.stdout)).toEqual(["inside", "p.tar.gz"]);
  });

  A("a malformed Containerfile names the file and line, exits 125 and leaves nothing behind", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN echo a\nFROBNICATE now\n" });
    const before = (await runPod(["images", "-a", "-q"])).stdout;
    const r = await build(dir, "-t", "malformed");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`${join(dir, "Containerfile")}:3`);
    expect(r.stderr).toContain("FROBNICATE");
    expect(r.stdout).toBe("");
    expect((await runPod(["images", "-a", "-q"])).stdout).toBe(before);
    await noContainersLeft();
    const none = await build(context({ "x.txt": "" }));
    expect(none.code).toBe(125);
    expect(none.stderr).toContain("no Containerfile or Dockerfile specified or found in context directory");
  });

  A("-q prints only the image ID; --iidfile writes it; -f picks another file", async () => {
    const dir = context({ "Containerfile.dev": "FROM alpine\nRUN echo quiet\nLABEL v=dev\n" });
    const iid = join(pod().tmp, "iid");
    const r = await build(dir, "-q", "-f", join(dir, "Containerfile.dev"), "--iidfile", iid, "-t", "quiet");
    expectExit(r, 0);
    expect(r.stdout.trim()).toMatch(HEX64);
    expect(lines(r.stdout)).toHaveLength(1);
    expect(readFileSync(iid, "utf8")).toBe(`sha256:${r.stdout.trim()}`);
  });

  A("RUN sees -v binds and --secret files (src= and env=); neither they nor their mount points stay in the layers", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN --mount=type=secret,id=tok cat /run/secrets/tok /hostdir/f > /got\nRUN --mount=type=secret,id=fromenv,target=/s cat /s >> /got\n" });
    const hostdir = join(pod().tmp, "hostdir");
    mkdirSync(hostdir);
    writeFileSync(join(hostdir, "f"), "bound\n");
    writeFileSync(join(pod().tmp, "tok"), "s3cret\n");
    const r = await runPod(["build", "-v", `${hostdir}:/hostdir:ro`, "--secret", `id=tok,src=${join(pod().tmp, "tok")}`, "--secret", "id=fromenv,env=BUILD_TOKEN", "-t", "secrets", dir], {
      env: { BUILD_TOKEN: "from-env" },
      timeoutMs: 300_000,
    });
    expectExit(r, 0);
    const run = await runPod(["run", "--rm", "secrets", "sh", "-c", "cat /got; echo; ls -d /hostdir /s /run/secrets 2>&1 | wc -l; ls /hostdir /s /run/secrets 2>/dev/null | wc -l"]);
    expect(lines(run.stdout)).toEqual(["s3cret", "bound", "from-env", "3", "0"]);
    const layers = await savedLayers("secrets");
    for (const l of layers.slice(1)) expect(l.filter((e) => /^(hostdir|s$|run\/secrets)/.test(e))).toEqual([]);
    const missing = await build(context({ Containerfile: "FROM alpine\nRUN --mount=type=secret,id=nope,required cat /run/secrets/nope\n" }));
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("no secret nope was given");
  });

  A("--squash-all gives one layer with the whole file system; --format docker keeps HEALTHCHECK, oci warns and drops it", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN echo one > /one\nRUN rm /etc/motd && echo two > /two\nHEALTHCHECK --interval=5s CMD true\n" });
    const sq = await build(dir, "--squash-all", "--format", "docker", "-t", "squashed");
    expectExit(sq, 0);
    const inspect = JSON.parse((await runPod(["image", "inspect", "squashed"])).stdout)[0];
    expect(inspect.RootFS.Layers).toHaveLength(1);
    expect(inspect.Healthcheck).toEqual({ Test: ["CMD-SHELL", "true"], Interval: 5_000_000_000 });
    expect(inspect.ManifestType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const [only] = await savedLayers("squashed");
    expect(only).toContain("one");
    expect(only).toContain("bin/busybox");
    expect(only!.some((e) => e.includes(".wh."))).toBe(false);
    expect(only).not.toContain("etc/motd");
    const run = await runPod(["run", "--rm", "squashed", "sh", "-c", "cat /one /two; ls /etc/motd 2>&1 >/dev/null | wc -l"]);
    expect(lines(run.stdout)).toEqual(["one", "two", "1"]);
    const oci = await build(dir, "-t", "unsquashed");
    expectExit(oci, 0);
    expect(oci.stderr).toContain("HEALTHCHECK is not supported for OCI image format");
    const plain = JSON.parse((await runPod(["image", "inspect", "unsquashed"])).stdout)[0];
    expect(plain.Healthcheck).toBeUndefined();
    expect(plain.RootFS.Layers.length).toBe(3);
    const both = await build(dir, "--squash", "--squash-all");
    expect(both.code).toBe(125);
    expect(both.stderr).toContain("--squash and --squash-all cannot be used together");
  });

  A("--squash and --layers=false: the base's layers, then one layer with what the steps changed (whiteouts included); --layers=false keeps no step image", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN echo one > /one\nENV X=1\nRUN rm /etc/motd && mkdir -p /d/e && echo f > /d/e/f\nRUN rm -rf /d/e && echo g > /d/g\n" });
    const base = JSON.parse((await runPod(["image", "inspect", "alpine"])).stdout)[0].RootFS.Layers;
    for (const [flag, tag] of [["--squash", "sq-new"], ["--layers=false", "no-layers"]] as const) {
      const before = lines((await runPod(["images", "-a", "-q", "--no-trunc"])).stdout);
      expectExit(await build(dir, flag, "-t", tag), 0);
      const inspect = JSON.parse((await runPod(["image", "inspect", tag])).stdout)[0];
      expect(inspect.RootFS.Layers).toHaveLength(base.length + 1);
      expect(inspect.RootFS.Layers.slice(0, base.length)).toEqual(base);
      expect(inspect.History.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(base.length + 1);
      const top = (await savedLayers(tag)).at(-1)!;
      expect(top.filter((e) => !e.endsWith("/")).sort()).toEqual(["d/g", "etc/.wh.motd", "one"]);
      const run = await runPod(["run", "--rm", tag, "sh", "-c", "cat /one /d/g; ls /d; test -e /etc/motd || echo no-motd; echo $X"]);
      expect(lines(run.stdout)).toEqual(["one", "g", "g", "no-motd", "1"]);
      const after = lines((await runPod(["images", "-a", "-q", "--no-trunc"])).stdout);
      if (flag === "--layers=false") expect(after.filter((id) => !before.includes(id))).toEqual([`sha256:${inspect.Id}`]);
    }
  });

  A("--timestamp makes the build reproducible (same image ID, every time and file time set); --annotation lands in the manifest", async () => {
    const dir = context({ "f.txt": "x\n", Containerfile: "FROM alpine\nCOPY f.txt /f.txt\nRUN echo one > /one\nENV X=1\n" });
    const first = await build(dir, "-q", "--no-cache", "--timestamp", "1000000000", "--annotation", "org.example.a=1", "-t", "stamped");
    expectExit(first, 0);
    await Bun.sleep(1100);
    const second = await build(dir, "-q", "--no-cache", "--timestamp", "1000000000", "--annotation", "org.example.a=1");
    expectExit(second, 0);
    expect(second.stdout).toBe(first.stdout);
    const inspect = JSON.parse((await runPod(["image", "inspect", "stamped"])).stdout)[0];
    expect(inspect.Annotations).toEqual({ "org.example.a": "1" });
    const times = new Set(inspect.History.slice(-3).map((h: { created: string }) => h.created));
    expect([...times]).toEqual(["2001-09-09T01:46:40Z"]);
    const run = await runPod(["run", "--rm", "stamped", "stat", "-c", "%Y", "/f.txt", "/one"]);
    expect(lines(run.stdout)).toEqual(["1000000000", "1000000000"]);
    const bad = await build(dir, "--timestamp", "yesterday");
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('invalid argument "yesterday" for "--timestamp" flag');
  });

  A("--userns keep-id: RUN steps run as the invoking user's uid, and the files they make keep that owner in the image", async () => {
    const dir = context({ Containerfile: "FROM alpine\nRUN id -u > /uid && touch /made\n" });
    expectExit(await build(dir, "--userns", "keep-id", "-t", "keepid"), 0);
    const uid = String(process.getuid!());
    const r = await runPod(["run", "--rm", "keepid", "sh", "-c", "cat /uid; stat -c %u /made"]);
    expect(lines(r.stdout)).toEqual([uid, uid]);
    const bad = await build(dir, "--userns", "bogus");
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("unrecognized namespace mode bogus passed");
  });
});
