// What every test/vm file starts with: the test that needs a delegated cgroup
// v2 (in the VM always, and CI fails without it; elsewhere it skips saying
// why), busybox pulled from a local registry, and the containers a test ran
// removed after it.
import { afterEach, beforeAll, test } from "bun:test";
import { requires, runPod, pod, expectExit, onSuiteEnd, SETUP_TIMEOUT, CI, type TestLike } from "../e2e/helpers.ts";
import { startRegistry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { cgroupSupport } from "../../pkg/cgroup/index.ts";

export const support = cgroupSupport();

/** Needs a delegated cgroup v2. */
export const V: TestLike = support.ok
  ? requires("subuid")
  : (name, fn, ms) => {
      const why = `no delegated cgroup v2 here (${support.reason}); run bash test/vm/run.sh`;
      if (CI || process.env.VM_RUN === "1") requires("subuid")(name, () => Promise.reject(new Error(`expected a delegated cgroup v2: ${why}`)), ms);
      else {
        console.log(`skip: "${name}": ${why}`);
        test.skip(`${name} (skipped: ${why})`, () => {});
      }
      void fn;
    };

/** The containers the running test made (by name): removed after it. */
export const made: string[] = [];

/** Call at the top of a VM test file, after useSuite(). */
export function useVmSuite(): void {
  beforeAll(async () => {
    if (!support.ok) return;
    const reg = await startRegistry();
    onSuiteEnd(() => reg.stop());
    pod().mirrorDockerIo(reg.host);
    await pushFixture(reg, "busybox");
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
  }, SETUP_TIMEOUT);
  afterEach(async () => {
    if (made.length) await runPod(["rm", "-f", "-i", ...made.splice(0)], { timeoutMs: 60_000 });
  }, SETUP_TIMEOUT);
}
