// Extracts a layer and prints what overlay would see in it, as JSON. The
// whiteout test runs it in-process as root, or through
// `unshare --user --map-root-user` when mknod 0:0 needs a user namespace.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { extractLayer } from "../../../pkg/layer/index.ts";
import { lgetxattr } from "../../../pkg/native/libc.ts";

export type Seen = Record<string, string>;

/** One word per path: "whiteout", "file:<content>", "dir" or "dir opaque", "symlink". */
export function describeTree(root: string, rel = ""): Seen {
  const out: Seen = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const full = join(root, p);
    const st = lstatSync(full);
    if (st.isCharacterDevice()) out[p] = st.rdev === 0 ? "whiteout" : `chardev ${st.rdev}`;
    else if (st.isFile()) out[p] = `file:${readFileSync(full, "utf8")}`;
    else if (st.isSymbolicLink()) out[p] = "symlink";
    else if (st.isDirectory()) {
      const opaque = lgetxattr(full, "user.overlay.opaque");
      out[p] = opaque ? `dir opaque=${Buffer.from(opaque).toString()}` : "dir";
      Object.assign(out, describeTree(root, p));
    } else out[p] = "other";
  }
  return out;
}

export async function probe(blob: string, dest: string): Promise<{ seen?: Seen; warnings: string[]; error?: string }> {
  const warnings: string[] = [];
  try {
    await extractLayer(blob, dest, { onWarning: (w) => warnings.push(w) });
    return { seen: describeTree(dest), warnings };
  } catch (e) {
    return { warnings, error: e instanceof Error ? e.message : String(e) };
  }
}

if (import.meta.main) {
  const [blob, dest] = process.argv.slice(2);
  console.log(JSON.stringify(await probe(blob!, dest!)));
}
