// --device as root: pod's container still has a user namespace (root's
// storage mapping), where mknod is refused, so the host's node is bound as
// for a rootless container; the container's root is the host's root, so a
// node only root may open (/dev/fuse, 0600) opens inside.
import { describe } from "bun:test";
import { statSync } from "node:fs";
import { useSuite, requires, expect, assertOutput } from "./helpers.ts";
import { useLifecycle, podStdout } from "./lifecycle-helpers.ts";

useSuite("627-device-root");
useLifecycle();

const R = requires("root", "alpine-fixture");

describe("--device as root", () => {
  R("a root-only node is there with the host's numbers and opens for reading and writing", async () => {
    const st = statSync("/dev/fuse");
    const hex = (n: number) => n.toString(16);
    const major = hex(Math.floor(st.rdev / 256));
    const minor = hex(st.rdev % 256);
    const out = await podStdout(["run", "--rm", "--device", "/dev/fuse:/dev/f", "alpine", "sh", "-c", "stat -c '%F %t,%T %a' /dev/f; exec 3<>/dev/f && echo opened"]);
    assertOutput(out, `character special file ${major},${minor} ${(st.mode & 0o777).toString(8)}\nopened\n`);
    expect(out).toContain("opened");
  });
});
