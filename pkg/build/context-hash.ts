// The files a COPY or ADD selects from the build context, and one digest over
// what they will become in the image: path, type, mode, owner after --chown,
// the bytes' sha256 or the symlink's target. Modification times are left out,
// so touching a file keeps the cache; changing a byte does not.
//
// Selection follows docker: a source is relative to the context (a leading `/`
// too), may hold `*`, `?` and `[...]` within path elements, a directory source
// stands for its contents, what the ignore file excludes does not exist, and a
// source cannot leave the context. Symlinks on the way to a named source are
// followed inside the context (an absolute target means the context's root, as
// in a chroot); symlinks inside a copied directory are copied as links.
// Files are read as streams, a few at a time.

import type { Stats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { cleanPath, type Matcher } from "./ignore.ts";

export interface SourceFile {
  /** The path in the context (slash-separated, no leading `/`), as reached from the source word. */
  rel: string;
  /** The path to read: `rel` with the symlinks on the way resolved inside the context. */
  abs: string;
  /** Where it goes, relative to the destination: a file source's base name; "." and the paths below it for a directory's contents. */
  dest: string;
  /** The index of the source word in `sources` it came from. */
  source: number;
  type: "file" | "dir" | "symlink";
  /** Permission bits (with setuid/setgid/sticky) as they will be in the image, after --chmod. */
  mode: number;
  size: number;
  /** The owner in the image: 0:0 unless --chown. */
  uid: number;
  gid: number;
  sha256?: string;
  linkTarget?: string;
}

/** What a file's bytes hashed to, remembered by path so a rebuild reads only what changed. */
export interface HashCacheEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}
export type HashCache = Map<string, HashCacheEntry>;

export interface HashOptions {
  /** --chmod, as a number (parse `0755` with parseInt(text, 8)). */
  chmod?: number;
  /** Reused across calls: a file whose size, mtime, ctime and inode are unchanged is not read again. */
  cache?: HashCache;
  /** How many files are read at the same time (default 8). */
  concurrency?: number;
}

export interface HashResult {
  /** `sha256:<hex>` over every selected entry in order. */
  digest: string;
  files: SourceFile[];
}

const GLOB = /[*?[]/;
const MAX_HOPS = 40;

function notFound(contextDir: string, source: string): PodError {
  return new PodError(`checking on sources under "${contextDir}": copier: stat: "/${source}": no such file or directory`, {
    exit: 125,
    hint: "sources are paths inside the build context; a path the ignore file excludes is not there either",
  });
}

/** The source word as a clean context-relative path, refusing one that climbs out of the context. */
export function contextRelative(source: string): string {
  const c = cleanPath(source);
  if (c === ".." || c.startsWith("../")) {
    throw new PodError(`forbidden path outside the build context: ${source}`, { exit: 125, hint: "copy only files inside the context directory (or pass a larger context)" });
  }
  const rel = c.replace(/^\/+/, "");
  return rel === "." ? "" : rel;
}

/** Resolves `rel` inside `root`, following symlinks as if root were `/`. Undefined when something on the way is missing. */
async function resolveInScope(root: string, rel: string, followLast: boolean): Promise<{ rel: string; st: Stats } | undefined> {
  let parts = rel === "" ? [] : rel.split("/");
  let done: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const name = parts.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      done.pop();
      continue;
    }
    const cur = [...done, name];
    let st: Stats;
    try {
      st = await lstat(join(root, ...cur));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++hops > MAX_HOPS) throw new PodError(`resolving ${rel} in the build context: too many levels of symbolic links`, { exit: 125, hint: "fix the symlink loop in the context" });
      const target = await readlink(join(root, ...cur));
      if (target.startsWith("/")) done = [];
      parts = [...target.split("/"), ...parts];
      continue;
    }
    if (parts.length > 0 && !st.isDirectory()) return undefined;
    done = cur;
  }
  try {
    const st = await lstat(join(root, ...done));
    return { rel: done.join("/"), st };
  } catch {
    return undefined;
  }
}

/** Go's filepath.Match for one path element: `*`, `?`, `[...]` (`^` or `!` negates), `\` escapes. */
export function matchElement(pattern: string, name: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += "\\" + pattern[++i];
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return false;
      let set = pattern.slice(i + 1, end);
      if (set.startsWith("!")) set = "^" + set.slice(1);
      re += "[" + set.replace(/\\(?!.)/g, "\\\\") + "]";
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  try {
    return new RegExp(re + "$").test(name);
  } catch {
    return false;
  }
}

/** The context paths a glob source matches, sorted; excluded paths are not there. */
async function expandGlob(contextDir: string, matcher: Matcher, rel: string): Promise<string[]> {
  let current = [""];
  for (const seg of rel.split("/")) {
    const next: string[] = [];
    for (const dir of current) {
      if (!GLOB.test(seg)) {
        next.push(dir === "" ? seg : `${dir}/${seg}`);
        continue;
      }
      const resolved = await resolveInScope(contextDir, dir, true);
      if (!resolved || !resolved.st.isDirectory()) continue;
      let names: string[];
      try {
        names = await readdir(join(contextDir, resolved.rel));
      } catch {
        continue;
      }
      for (const n of names.sort()) if (matchElement(seg, n)) next.push(dir === "" ? n : `${dir}/${n}`);
    }
    current = next;
  }
  const out: string[] = [];
  for (const p of current) if (!matcher.excluded(p) && (await resolveInScope(contextDir, p, true))) out.push(p);
  return out;
}

interface Pending {
  file: SourceFile;
  st: Stats;
}

export async function hashSources(
  contextDir: string,
  matcher: Matcher,
  sources: string[],
  chown?: { uid: number; gid: number },
  options: HashOptions = {},
): Promise<HashResult> {
  const uid = chown?.uid ?? 0;
  const gid = chown?.gid ?? 0;
  const files: SourceFile[] = [];
  const toHash: Pending[] = [];
  const modeOf = (st: Stats) => (options.chmod !== undefined ? options.chmod & 0o7777 : st.mode & 0o7777);

  const record = async (source: number, rel: string, abs: string, dest: string, st: Stats) => {
    if (st.isSymbolicLink()) {
      files.push({ rel, abs, dest, source, type: "symlink", mode: 0o777, size: st.size, uid, gid, linkTarget: await readlink(abs) });
    } else if (st.isDirectory()) {
      files.push({ rel, abs, dest, source, type: "dir", mode: modeOf(st), size: 0, uid, gid });
    } else if (st.isFile()) {
      const file: SourceFile = { rel, abs, dest, source, type: "file", mode: modeOf(st), size: st.size, uid, gid };
      files.push(file);
      toHash.push({ file, st });
    }
    // Sockets, fifos and device nodes in a context are not copied.
  };

  const walk = async (source: number, rel: string, abs: string, dest: string) => {
    const entries = (await readdir(abs, { withFileTypes: true })).map((e) => e.name).sort();
    for (const name of entries) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const childAbs = join(abs, name);
      const childDest = dest === "." ? name : `${dest}/${name}`;
      const st = await lstat(childAbs);
      if (matcher.excluded(childRel)) {
        // An excluded directory can still hold re-included paths; it is not listed itself.
        if (st.isDirectory() && matcher.mayHaveExceptionsBelow(childRel)) await walk(source, childRel, childAbs, childDest);
        continue;
      }
      await record(source, childRel, childAbs, childDest, st);
      if (st.isDirectory()) await walk(source, childRel, childAbs, childDest);
    }
  };

  for (let index = 0; index < sources.length; index++) {
    const source = sources[index]!;
    const rel = contextRelative(source);
    const picked = GLOB.test(rel) ? await expandGlob(contextDir, matcher, rel) : [rel];
    if (picked.length === 0) throw notFound(contextDir, rel);
    for (const named of picked) {
      if (matcher.excluded(named)) throw notFound(contextDir, named);
      const resolved = await resolveInScope(contextDir, named, true);
      if (!resolved || (resolved.rel !== "" && matcher.excluded(resolved.rel))) throw notFound(contextDir, named);
      const abs = join(contextDir, resolved.rel);
      if (resolved.st.isDirectory()) {
        await record(index, named, abs, ".", resolved.st);
        await walk(index, resolved.rel, abs, ".");
      } else {
        const base = named === "" ? "." : named.slice(named.lastIndexOf("/") + 1);
        await record(index, named, abs, base, resolved.st);
      }
    }
  }

  await hashAll(toHash, options);

  const h = new Bun.CryptoHasher("sha256");
  for (const f of files) {
    h.update(`${f.source}\0${f.rel}\0${f.dest}\0${f.type}\0${f.mode.toString(8)}\0${f.uid}:${f.gid}\0${f.sha256 ?? f.linkTarget ?? ""}\n`);
  }
  return { digest: `sha256:${h.digest("hex")}`, files };
}

/** Below this, a file is read in one piece; above, as a stream, so memory stays bounded. */
const WHOLE_READ_MAX = 1 << 20;

async function hashFile(path: string, size: number): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  const file = Bun.file(path);
  if (size <= WHOLE_READ_MAX) h.update(await file.bytes());
  else for await (const chunk of file.stream()) h.update(chunk);
  return h.digest("hex");
}

async function hashAll(pending: Pending[], options: HashOptions): Promise<void> {
  const cache = options.cache;
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const { file, st } = pending[next++]!;
      const hit = cache?.get(file.abs);
      if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ctimeMs === st.ctimeMs && hit.ino === st.ino) {
        file.sha256 = hit.sha256;
        continue;
      }
      try {
        file.sha256 = await hashFile(file.abs, st.size);
      } catch (e) {
        throw new PodError(`reading ${file.rel} from the build context: ${(e as Error).message}`, { exit: 125, hint: "make the context's files readable by you", cause: e });
      }
      cache?.set(file.abs, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: file.sha256 });
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 8, pending.length));
  await Promise.all(Array.from({ length: n }, worker));
}
