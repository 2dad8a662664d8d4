// The two spellings of "deleted in this layer": the OCI tar form (marker files
// named .wh.*) and the overlay form they become on disk. Defined here once.
//
// OCI image spec, layer.md: `.wh.NAME` deletes NAME from the layers below;
// `.wh..wh..opq` in a directory hides everything the lower layers have there.
// Overlay (kernel and fuse-overlayfs) reads a deletion as a character device
// 0:0 with the same name, and an opaque directory from an xattr. Rootless,
// the kernel is mounted with `userxattr` and reads `user.overlay.opaque`
// (`trusted.*` cannot be set inside a user namespace); fuse-overlayfs'
// is_directory_opaque reads trusted.overlay.opaque, then user.overlay.opaque,
// then user.fuseoverlayfs.opaque. So user.overlay.opaque serves both.
import type { Stats } from "node:fs";
import { PodError } from "../errors.ts";
import { lsetxattr, mknodChar, SysError } from "../native/libc.ts";

/** Prefix of a whiteout file in a layer tar: `.wh.NAME` deletes NAME. */
export const WHITEOUT_PREFIX = ".wh.";
/** Prefix of AUFS bookkeeping entries (`.wh..wh.plnk`, `.wh..wh.aufs`), never content. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";
/** The opaque-directory marker: the directory's lower contents are hidden. */
export const OPAQUE_MARKER = ".wh..wh..opq";
/** The xattr overlay reads (with `userxattr`) to treat a directory as opaque. */
export const OPAQUE_XATTR = "user.overlay.opaque";

/** Overlay's own xattr namespaces: a layer may not carry these itself. */
export const OVERLAY_XATTR_PREFIXES = ["user.overlay.", "trusted.overlay."] as const;

export type WhiteoutKind =
  | { kind: "none" }
  | { kind: "opaque" }
  | { kind: "whiteout"; target: string }
  | { kind: "meta" };

/** Classifies one path component (a basename) of a layer entry. */
export function classifyWhiteout(base: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: "none" };
  if (base === OPAQUE_MARKER) return { kind: "opaque" };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: "meta" };
  return { kind: "whiteout", target: base.slice(WHITEOUT_PREFIX.length) };
}

/** True for the overlay form of a whiteout: a character device numbered 0:0. */
export function isOverlayWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

const EPERM = 1;
const EEXIST = 17;

/**
 * Creates the overlay whiteout at `path`. Returns false when something already
 * exists there (the layer's own entry wins over its whiteout).
 * WARNING: the caller must have checked that no parent of `path` is a symlink.
 */
export function createOverlayWhiteout(path: string): boolean {
  try {
    mknodChar(path, 0, 0, 0);
    return true;
  } catch (e) {
    if (e instanceof SysError && e.errno === EEXIST) return false;
    if (e instanceof SysError && e.errno === EPERM) {
      throw new PodError(`creating whiteout ${path}: mknod of a 0:0 character device was refused`, {
        hint: "before Linux 5.8 only root or a user namespace may create overlay whiteouts: extract layers inside pod's user namespace (`pod unshare`)",
        cause: e,
      });
    }
    throw e;
  }
}

/** Marks the directory at `path` opaque for overlay. Caller must have verified it is a real directory. */
export function markOpaque(path: string): void {
  try {
    lsetxattr(path, OPAQUE_XATTR, new TextEncoder().encode("y"));
  } catch (e) {
    throw new PodError(`marking ${path} opaque: ${e instanceof Error ? e.message : String(e)}`, {
      hint: "layer storage must be on a filesystem with user xattrs (ext4, xfs, btrfs, tmpfs on Linux 6.6+)",
      cause: e,
    });
  }
}
