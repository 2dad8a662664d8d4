// Copies overlay-form layers into one plain directory (runs in the storage
// namespace). Per layer: whiteouts and opaque directories first remove what
// lower layers put there, then `cp -a` brings the layer's files (owners,
// modes, xattrs, times), then the copied whiteout devices go.
import { lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lgetxattr } from "../native/libc.ts";
import { PodError } from "../errors.ts";

type Marks = { whiteouts: string[]; opaques: string[] };

function findMarks(layer: string, rel = "", marks: Marks = { whiteouts: [], opaques: [] }): Marks {
  for (const name of readdirSync(join(layer, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(layer, r));
    if (st.isCharacterDevice() && st.rdev === 0) marks.whiteouts.push(r);
    else if (st.isDirectory()) {
      const x = lgetxattr(join(layer, r), "user.overlay.opaque");
      if (x && new TextDecoder().decode(x) === "y") marks.opaques.push(r);
      findMarks(layer, r, marks);
    }
  }
  return marks;
}

export function copyLayers(layers: string[], dest: string): void {
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const layer of layers) {
    const marks = findMarks(layer);
    for (const r of [...marks.whiteouts, ...marks.opaques]) rmSync(join(dest, r), { recursive: true, force: true });
    const cp = Bun.spawnSync(["cp", "-a", "--", `${layer}/.`, `${dest}/`], { stderr: "pipe" });
    if (cp.exitCode !== 0) throw new PodError(`cp -a ${layer}: ${cp.stderr.toString().trim()}`);
    // The copied opaque marks stay: on a plain directory they mean nothing.
    for (const r of marks.whiteouts) rmSync(join(dest, r), { force: true });
  }
}
