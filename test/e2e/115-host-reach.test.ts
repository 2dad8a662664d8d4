// What of the host a container can reach through pod itself: the pod
// processes that enter it (an exec session before it execs, the built-in
// init) are not dumpable, so the container's root can neither write the
// host's pod binary through /proc/PID/exe nor ptrace them or read their
// environ and fds; and every container has a session keyring of its own,
// so the keys of the user's login session stay out, and the container's out
// of the user's.
import { beforeAll, describe } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { POD, useSuite, requires, runPod, pod, expect, expectExit, missing, onSuiteEnd, safeName, sh, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { buildProbe } from "../fixtures/probe.ts";

useSuite("115-host-reach");

const P = requires("subuid", "alpine-fixture", "cc");
const K = requires("subuid", "alpine-fixture", "cc", "keyctl");

let reg: Registry;
let probe = "";

beforeAll(async () => {
  if (missing("alpine-fixture") || missing("subuid")) return;
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "alpine");
  expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  if (!missing("cc")) probe = await buildProbe();
}, SETUP_TIMEOUT);

/** A running container with the probe at /probe; removed at the end of the suite. */
async function container(extra: string[] = []): Promise<string> {
  const name = safeName("reach");
  expectExit(await runPod(["run", "-d", "--name", name, "-v", `${probe}:/probe:ro`, ...extra, "alpine", "sleep", "1000"]), 0);
  onSuiteEnd(async () => void (await runPod(["rm", "-f", "-t", "0", name])));
  return name;
}

const parse = (out: string) => Object.fromEntries(out.trim().split("\n").map((l) => { const [k, ...v] = l.split(" "); return [k, v.join(" ")]; }));

/** What each way into the process answered: "errno 13", "ok 5", … */
const REFUSED = { "exe-write": expect.stringMatching(/^errno (13|1)$/), ptrace: "errno 1", environ: expect.stringMatching(/^errno (13|1)$/), fd: expect.stringMatching(/^errno (13|1)$/) };

describe("pod's processes inside a container", () => {
  P("an exec session's process, caught before it execs, cannot be written through /proc/PID/exe, ptraced, or read", async () => {
    const name = await container();
    // The probe stops the next process of the container's PID namespace (its own pid + 1): the one
    // `pod exec` puts there. It is caught while still pod (comm pod-exec) most times; after its exec, retry.
    for (let attempt = 0; attempt < 40; attempt++) {
      const catcher = pod().spawn(["exec", name, "/probe", "catch-next"]);
      const reader = catcher.stdout.getReader();
      let out = "";
      // it prints "spinning" first: from then on the next pid of the namespace is the one it waits for
      while (!out.includes("spinning\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      const r = await runPod(["exec", name, "true"]);
      expectExit(r, 0);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      await catcher.exited;
      const seen = parse(out.replace("spinning\n", ""));
      if (seen.comm !== "pod-exec") continue;
      expect(seen).toEqual({ comm: "pod-exec", ...REFUSED });
      return;
    }
    throw new Error("never caught the exec session's process before its exec in 40 tries");
  });

  P("the built-in init (--init, PID 1 for the container's life) cannot be written through /proc/1/exe, ptraced, or read", async () => {
    const name = await container(["--init"]);
    const r = await runPod(["exec", name, "/probe", "reach", "1"]);
    expectExit(r, 0);
    expect(parse(r.stdout)).toEqual({ comm: "pod-init", ...REFUSED });
  });

  P("the container's own command is reachable as usual once it runs (the probe itself works)", async () => {
    const name = await container();
    const r = await runPod(["exec", name, "/probe", "reach", "1"]);
    expectExit(r, 0);
    expect(parse(r.stdout)).toEqual({ comm: "sleep", "exe-write": "errno 26", ptrace: "ok 0", environ: expect.stringMatching(/^ok \d+$/), fd: expect.stringMatching(/^ok \d+$/) });
  });
});

describe("a script whose interpreter is /proc/self/exe (CVE-2019-5736)", () => {
  const A = requires("subuid", "alpine-fixture");
  // Exec'd straight from pod's process, the kernel would start the host's pod binary as the
  // script's interpreter inside the container. Through the sealed stub, /proc/self/exe is the stub,
  // which sees it was not started by pod and exits 127: pod never runs in there.
  A("pod exec of such a script runs neither pod nor anything: exit 127, no output", async () => {
    const name = safeName("evil");
    expectExit(await runPod(["run", "-d", "--name", name, "alpine", "sleep", "1000"]), 0);
    onSuiteEnd(async () => void (await runPod(["rm", "-f", "-t", "0", name])));
    expectExit(await runPod(["exec", name, "sh", "-c", "printf '#!/proc/self/exe\\n' > /evil && chmod +x /evil"]), 0);
    const r = await runPod(["exec", name, "/evil", "--version"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 127, stdout: "", stderr: "" });
  });

  A("a container whose command is such a script: the same", async () => {
    const script = join(pod().tmp, "evil.sh");
    writeFileSync(script, "#!/proc/self/exe\n", { mode: 0o755 });
    const r = await runPod(["run", "--rm", "-v", `${script}:/evil:ro`, "alpine", "/evil", "--version"]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 127, stdout: "", stderr: "" });
  });
});

describe("session keyring", () => {
  K("a container's session keyring is its own, named _ses.<id>", async () => {
    const name = await container();
    const id = (await runPod(["inspect", "--format", "{{.Id}}", name])).stdout.trim();
    const r = await runPod(["exec", name, "/probe", "session"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^session keyring;\\d+;\\d+;[0-9a-f]+;_ses\\.${id}$`));
  });

  K("a key added on the host is invisible inside; one added inside is invisible on the host", async () => {
    const desc = safeName("hostkey");
    const inner = safeName("innerkey");
    // the host's key goes into the session keyring this test's pod commands inherit
    const script = [
      `keyctl add user ${desc} secret @s >/dev/null`,
      `"$POD" exec ${"$CTR"} /probe findkey ${desc}`,
      `"$POD" exec ${"$CTR"} /probe addkey ${inner}`,
      `"$POD" exec ${"$CTR"} /probe findkey ${inner}`,
      `keyctl search @s user ${inner} >/dev/null 2>&1 && echo host-sees-inner || echo host-misses-inner`,
    ].join("\n");
    const name = await container(["--security-opt", "seccomp=unconfined"]);
    const r = await sh(["keyctl", "session", "-", "sh", "-c", script], { ...pod().env, POD, CTR: name });
    expect({ code: r.code, stderr: r.stderr.replace(/^Joined session keyring: \d+\n/, "") }).toEqual({ code: 0, stderr: "" });
    const out = r.stdout.trim().split("\n");
    expect(out[0]).toBe("findkey errno 126"); // ENOKEY
    expect(out[1]).toMatch(/^addkey ok \d+$/);
    expect(out[2]).toMatch(/^findkey ok \d+$/);
    expect(out[3]).toBe("host-misses-inner");
  });
});
