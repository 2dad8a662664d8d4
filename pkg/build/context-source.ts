// Where `pod build` gets its context, as podman does: a local directory; `-`,
// a tar (plain, gzip or zstd) or a Containerfile on stdin; an http(s) URL of
// either; or a git repository (git://, git@host:path, http(s)://….git, with
// podman's `#ref:subdir` fragment), cloned with the git binary. Everything
// that is not a local directory lands in a private temp dir that cleanup()
// removes, also when the build fails. Archives are unpacked as the invoking
// user (the context lives on the host side); an entry that would land
// outside the directory (absolute names, "..", through a symlink) fails the
// build with nothing left behind.
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, futimesSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { isatty } from "node:tty";
import { dirname, join, resolve, sep } from "node:path";
import { PodError, wrap } from "../errors.ts";
import { cleanEntryPath, readTar, type TarEntry, type TarSink } from "../layer/index.ts";
import { fetchToFile } from "./executor/fetch.ts";

/** What a CONTEXT argument names, decided by its text alone. */
export type ContextSpec =
  | { kind: "dir"; path: string }
  | { kind: "stdin" }
  | { kind: "url"; url: string }
  | { kind: "git"; repo: string; ref?: string; subdir?: string };

export type BuildContext = {
  /** The directory COPY and ADD read from. */
  dir: string;
  /** The Containerfile's text when the source was one (stdin or a URL) rather than an archive; the context is then empty. */
  containerfileText?: string;
  /** Removes what openBuildContext made; safe to call more than once. */
  cleanup(): void;
};

export type OpenOptions = {
  /** stdin's bytes for `-` (default: fd 0, refused when it is a terminal). */
  stdin?: () => AsyncIterable<Uint8Array>;
  /** Where the temp dir goes (default: $TMPDIR). */
  tmpdir?: string;
  /** One line per archive entry skipped (device nodes, fifos). */
  onWarning?: (msg: string) => void;
};

const GIT_HINT = "check the repository URL and the #ref:subdir fragment, and that git can reach it";

/** Classifies a CONTEXT argument the way podman does (pure). */
export function classifyContext(arg: string): ContextSpec {
  if (arg === "-") return { kind: "stdin" };
  const isHttp = /^https?:\/\//i.test(arg);
  if (/^git:\/\//i.test(arg) || arg.startsWith("git@") || (isHttp && /\.git$/i.test(arg.replace(/#.*$/, "")))) return { kind: "git", ...parseGitContext(arg) };
  if (isHttp) return { kind: "url", url: arg };
  return { kind: "dir", path: arg };
}

/** `REPO#REF:SUBDIR` → its parts; REF and SUBDIR may each be empty (the default branch, the top). */
export function parseGitContext(arg: string): { repo: string; ref?: string; subdir?: string } {
  const hash = arg.indexOf("#");
  if (hash < 0) return { repo: arg };
  const repo = arg.slice(0, hash);
  const frag = arg.slice(hash + 1);
  const colon = frag.indexOf(":");
  const ref = colon < 0 ? frag : frag.slice(0, colon);
  const subdir = colon < 0 ? "" : frag.slice(colon + 1);
  if (ref.startsWith("-")) throw new PodError(`build context ${arg}: the ref ${JSON.stringify(ref)} is not a branch or tag name`, { exit: 125, hint: "the fragment is #REF[:SUBDIR]" });
  return { repo, ...(ref ? { ref } : {}), ...(subdir ? { subdir: cleanSubdir(arg, subdir) } : {}) };
}

/** A subdirectory of a repository, relative and inside it; "" for the top. */
function cleanSubdir(arg: string, subdir: string): string | undefined {
  const escapes = () => new PodError(`build context ${arg}: the subdirectory ${JSON.stringify(subdir)} is not inside the repository`, { exit: 125, hint: "the fragment is #REF:SUBDIR, SUBDIR relative to the repository's top" });
  if (subdir.startsWith("/")) throw escapes();
  let rel: string;
  try {
    rel = cleanEntryPath(subdir);
  } catch {
    throw escapes();
  }
  return rel === "" ? undefined : rel;
}

/** Opens the context CONTEXT names: a directory to read from, and what to remove afterwards. */
export async function openBuildContext(arg: string, opts: OpenOptions = {}): Promise<BuildContext> {
  const spec = classifyContext(arg);
  if (spec.kind === "dir") {
    const dir = resolve(spec.path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PodError(`the build context ${arg} is not a directory`, { exit: 125, hint: "pass the directory that holds the Containerfile and the files it copies, -, a URL or a git repository" });
    return { dir, cleanup: () => undefined };
  }
  const base = mkdtempSync(join(opts.tmpdir ?? tmpdir(), "pod-build-context-"));
  const cleanup = () => removeTree(base);
  try {
    const ctx = await openIn(base, arg, spec, opts);
    return { ...ctx, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

async function openIn(base: string, arg: string, spec: Exclude<ContextSpec, { kind: "dir" }>, opts: OpenOptions): Promise<Omit<BuildContext, "cleanup">> {
  const dir = join(base, "context");
  if (spec.kind === "git") return { dir: await cloneRepo(base, arg, spec) };
  mkdirSync(dir, { mode: 0o700 });
  const file = join(base, "source");
  let label: string;
  if (spec.kind === "stdin") {
    label = "build context on stdin";
    await copyStdin(file, opts);
  } else {
    label = `build context ${spec.url}`;
    await fetchToFile(spec.url, file, label);
  }
  const kind = sniff(file);
  if (kind === "text") return { dir, containerfileText: readFileSync(file, "utf8") };
  if (kind === "empty") throw new PodError(`${label} is empty`, { exit: 125, hint: "give a tar archive of the context (plain, gzip or zstd) or a Containerfile" });
  if (kind === "binary") throw new PodError(`${label} is neither a tar archive nor a Containerfile`, { exit: 125, hint: "give a tar archive of the context (plain, gzip or zstd) or a Containerfile" });
  if (kind === "xz" || kind === "bzip2") throw new PodError(`${label} is a ${kind}-compressed archive, which pod does not read`, { exit: 125, hint: "compress the context with gzip or zstd, or not at all" });
  await unpackContext(file, dir, label, opts.onWarning);
  return { dir };
}

async function copyStdin(file: string, opts: OpenOptions): Promise<void> {
  if (!opts.stdin && isatty(0)) throw new PodError("the build context - is read from stdin, which is a terminal", { exit: 125, hint: "pipe a tar of the context or a Containerfile into pod build -" });
  const chunks = opts.stdin ? opts.stdin() : (Bun.stdin.stream() as unknown as AsyncIterable<Uint8Array>);
  const sink = Bun.file(file).writer();
  try {
    for await (const chunk of chunks) sink.write(chunk);
  } finally {
    await sink.end();
  }
}

export type Sniffed = "tar" | "text" | "empty" | "binary" | "xz" | "bzip2";

/** Tells a tar (gzip and zstd taken as tars) from a text file by the first block's bytes. */
export function sniffBytes(b: Uint8Array): Sniffed {
  if (b.length === 0) return "empty";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "tar";
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "tar";
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return "xz";
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return "bzip2";
  if (b.length >= 512 && (Buffer.from(b.subarray(257, 262)).toString("latin1") === "ustar" || tarChecksumOK(b))) return "tar";
  return b.includes(0) ? "binary" : "text";
}

/** A pre-POSIX (v7) header has no magic: its checksum field is the sum of the block with that field as spaces. */
function tarChecksumOK(b: Uint8Array): boolean {
  const field = Buffer.from(b.subarray(148, 156)).toString("latin1").replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return sum === parseInt(field, 8);
}

function sniff(file: string): Sniffed {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(Math.min(8192, fstatSync(fd).size));
    const n = b.length ? readSync(fd, b, 0, b.length, 0) : 0;
    return sniffBytes(b.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** git clone --depth 1 [--branch REF] into base/repo; the context is SUBDIR of it. */
async function cloneRepo(base: string, arg: string, spec: { repo: string; ref?: string; subdir?: string }): Promise<string> {
  const git = Bun.which("git");
  if (!git) throw new PodError(`build context ${arg}: git is not installed`, { exit: 125, hint: "apt-get install git (or clone the repository and pass its directory)" });
  const repoDir = join(base, "repo");
  const argv = [git, "clone", "--quiet", "--depth", "1", ...(spec.ref ? ["--branch", spec.ref] : []), "--", spec.repo, repoDir];
  const proc = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" },
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited, new Response(proc.stdout).text()]);
  if (code !== 0) {
    const why = stderr.trim().split("\n").filter(Boolean).at(-1) ?? `git exited ${code}`;
    throw new PodError(`build context ${arg}: git clone failed: ${why.replace(/^fatal: /, "")}`, { exit: 125, hint: GIT_HINT });
  }
  if (!spec.subdir) return repoDir;
  const top = realpathSync(repoDir);
  let dir: string;
  try {
    dir = realpathSync(join(repoDir, spec.subdir));
  } catch {
    throw new PodError(`build context ${arg}: the repository has no directory ${spec.subdir}`, { exit: 125, hint: GIT_HINT });
  }
  if (dir !== top && !dir.startsWith(top + sep)) throw new PodError(`build context ${arg}: ${spec.subdir} leads outside the repository`, { exit: 125, hint: GIT_HINT });
  if (!statSync(dir).isDirectory()) throw new PodError(`build context ${arg}: ${spec.subdir} is not a directory`, { exit: 125, hint: GIT_HINT });
  return dir;
}

/**
 * Unpacks the archive into dest (an empty directory) as the invoking user.
 * Names are checked by text (no absolute names, nothing above dest) and each
 * parent on the way is checked to be a real directory, so an earlier symlink
 * entry cannot redirect a later one.
 */
export async function unpackContext(archive: string, dest: string, label: string, onWarning?: (msg: string) => void): Promise<number> {
  const sink = new ContextWriter(dest, label, onWarning ?? (() => undefined));
  try {
    const n = await readTar(archive, sink);
    sink.finish();
    return n;
  } catch (e) {
    if (e instanceof PodError) throw e.message.startsWith(label) ? e : wrap(label, e);
    throw wrap(`${label}: reading the archive`, e);
  } finally {
    sink.abort();
  }
}

const REGULAR = new Set(["0", "7", ""]);

class ContextWriter implements TarSink {
  #fd: number | undefined;
  #file: { path: string; mtime?: Date } | undefined;
  /** directories and the mode and time they get once everything inside is written */
  #dirs: { path: string; mode: number; mtime?: Date }[] = [];

  constructor(
    readonly dest: string,
    readonly label: string,
    readonly warn: (msg: string) => void,
  ) {}

  #refuse(raw: string, why: string): PodError {
    return new PodError(`${this.label}: entry ${JSON.stringify(raw)} ${why}`, { exit: 125, hint: "the archive is malformed or hostile; nothing of it was used" });
  }

  /** The entry's name relative to dest, refused when absolute or above dest. */
  #rel(raw: string): string {
    if (raw.startsWith("/")) throw this.#refuse(raw, "has an absolute name");
    try {
      return cleanEntryPath(raw);
    } catch {
      throw this.#refuse(raw, "leaves the context directory");
    }
  }

  /** Makes the parents of rel real directories (refusing symlinks and files on the way); returns its full path. */
  #place(raw: string, rel: string): string {
    const parts = rel.split("/");
    let p = this.dest;
    for (const part of parts.slice(0, -1)) {
      p = join(p, part);
      const st = lstatOrNull(p);
      if (!st) mkdirSync(p, { mode: 0o755 });
      else if (st.isSymbolicLink()) throw this.#refuse(raw, "goes through a symlink");
      else if (!st.isDirectory()) throw this.#refuse(raw, "goes through a file that is not a directory");
    }
    return join(p, parts.at(-1)!);
  }

  /** Clears what is at path so a new entry can take it (a directory is kept for a directory entry). */
  #clear(path: string, keepDir: boolean): boolean {
    const st = lstatOrNull(path);
    if (!st) return false;
    if (st.isDirectory()) {
      if (keepDir) return true;
      rmSync(path, { recursive: true, force: true });
    } else rmSync(path, { force: true });
    return false;
  }

  begin(e: TarEntry): void {
    const rel = this.#rel(e.path);
    if (rel === "") {
      if (e.type === "5") this.#dirs.push({ path: this.dest, mode: e.mode & 0o7777, mtime: e.mtime });
      return;
    }
    const path = this.#place(e.path, rel);
    if (REGULAR.has(e.type)) {
      this.#clear(path, false);
      this.#fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      this.#file = { path, mtime: e.mtime };
      fchmodSync(this.#fd, e.mode & 0o7777);
    } else if (e.type === "5") {
      if (!this.#clear(path, true)) mkdirSync(path, { mode: 0o700 });
      this.#dirs.push({ path, mode: e.mode & 0o7777, mtime: e.mtime });
    } else if (e.type === "2") {
      this.#clear(path, false);
      symlinkSync(e.linkpath, path);
    } else if (e.type === "1") {
      const targetRel = this.#rel(e.linkpath);
      if (targetRel === "") throw this.#refuse(e.path, "is a hard link to the context directory itself");
      const target = this.#place(e.linkpath, targetRel);
      const st = lstatOrNull(target);
      if (!st || st.isDirectory()) throw this.#refuse(e.path, `is a hard link to ${JSON.stringify(e.linkpath)}, which is not a file before it in the archive`);
      this.#clear(path, false);
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(target), path);
      else linkSync(target, path);
    } else {
      this.warn(`${this.label}: skipping ${JSON.stringify(e.path)}: ${e.type === "6" ? "a fifo" : e.type === "3" || e.type === "4" ? "a device node" : `entry type ${JSON.stringify(e.type)}`} has no place in a build context`);
    }
  }

  data(chunk: Uint8Array): void {
    if (this.#fd === undefined) return;
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  end(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      if (this.#file?.mtime) futimesSync(fd, this.#file.mtime, this.#file.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Directory modes and times last, deepest first, so read-only directories could be filled. */
  finish(): void {
    for (const d of this.#dirs.reverse()) {
      // a later entry may have put a symlink where this directory or a parent was: chmod would follow it
      if (!this.#realDir(d.path)) continue;
      chmodSync(d.path, d.mode);
      if (d.mtime) utimesSync(d.path, d.mtime, d.mtime);
    }
    this.#dirs = [];
  }

  /** path (under dest) and each parent up to dest are directories, none a symlink. */
  #realDir(path: string): boolean {
    for (let p = path; p.length > this.dest.length; p = dirname(p)) if (!lstatOrNull(p)?.isDirectory()) return false;
    return true;
  }

  abort(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** rm -rf that also gets through directories the archive made read-only. */
function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // a directory without owner write or search permission: open them all up, then again
  }
  const open = (p: string) => {
    const st = lstatOrNull(p);
    if (!st?.isDirectory()) return;
    chmodSync(p, 0o700);
    for (const name of readdirSync(p)) open(join(p, name));
  };
  open(path);
  rmSync(path, { recursive: true, force: true });
}
