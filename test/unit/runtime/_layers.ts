// Small layer diff directories for runtime tests, in overlay's on-disk form:
// whiteouts as 0:0 character devices, opaque directories by xattr.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { lsetxattr, mknodChar } from "../../../pkg/native/libc.ts";

/** A layer: path -> file text, or a marker for a directory, symlink, whiteout or opaque directory. */
export type LayerSpec = Record<string, string | { dir: true; opaque?: boolean } | { symlink: string } | { whiteout: true }>;

const roots: string[] = [];

export function scratchDir(prefix = "pod-runtime-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

/** Removes every directory made so far; test files call it from afterAll. */
export function removeScratch(): void {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
}

function writeEntry(root: string, rel: string, v: LayerSpec[string]): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  if (typeof v === "string") writeFileSync(p, v);
  else if ("symlink" in v) symlinkSync(v.symlink, p);
  else if ("whiteout" in v) mknodChar(p, 0, 0, 0);
  else {
    mkdirSync(p, { recursive: true });
    if (v.opaque) lsetxattr(p, "user.overlay.opaque", new TextEncoder().encode("y"));
  }
}

/** Builds the layers (bottom first) and returns their directories. */
export function makeLayers(...layers: LayerSpec[]): string[] {
  const base = scratchDir();
  return layers.map((spec, i) => {
    const dir = join(base, `layer${i}`);
    mkdirSync(dir);
    for (const [rel, v] of Object.entries(spec)) writeEntry(dir, rel, v);
    return dir;
  });
}

/** Whether this process may create overlay whiteouts (root, or inside a user namespace); the reason when not. */
export function whiteoutSupport(): { ok: true } | { ok: false; reason: string } {
  const d = scratchDir();
  try {
    mknodChar(join(d, "probe"), 0, 0, 0);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `mknod of a 0:0 character device is not permitted here (${(e as Error).message})` };
  }
}

/** Whether user.* xattrs can be set in the temp directory (tmpfs before Linux 6.6 cannot). */
export function userXattrSupport(): { ok: true } | { ok: false; reason: string } {
  const d = scratchDir();
  try {
    lsetxattr(d, "user.pod-probe", new TextEncoder().encode("y"));
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `user xattrs are not supported in ${tmpdir()} (${(e as Error).message})` };
  }
}

export function thrown(fn: () => unknown): Error & { hint?: string; exit?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { hint?: string; exit?: number };
  }
  throw new Error("expected an error");
}

/** A passwd/group pair like Alpine's, trimmed. */
export const ALPINE_ETC: LayerSpec = {
  "etc/passwd":
    "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\ndaemon:x:2:2:daemon:/sbin:/sbin/nologin\n" +
    "nobody:x:65534:65534:nobody:/:/sbin/nologin\nguest:x:405:100:guest:/dev/null:/sbin/nologin\n",
  "etc/group":
    "root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\nsys:x:3:root,bin\nadm:x:4:root,daemon\n" +
    "wheel:x:10:root\nusers:x:100:games\nnogroup:x:65533:\nnobody:x:65534:\n",
};
