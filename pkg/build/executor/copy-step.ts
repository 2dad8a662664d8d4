// COPY and ADD steps: what the sources are (context files after the ignore
// file, heredocs, ADD's URLs and local archives, or a path of another stage or
// image with --from), their cache key (the digest of the selected files' data,
// mode and owner; for --from the source image and the paths), and the layer.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { PodError } from "../../errors.ts";
import { imagePathTar } from "../../container/fs/files.ts";
import { idNames } from "../../container/fs/view.ts";
import { detectCompression } from "../../layer/index.ts";
import { instructionError, type Instruction } from "../containerfile.ts";
import { expand } from "../expand.ts";
import { hashSources, type SourceFile } from "../context-hash.ts";
import { createMatcher } from "../ignore.ts";
import { stepKey } from "./cache.ts";
import { cached, commitStep, fromCache, imageFor, stateLayers, stateView, type BuildContext, type StageState } from "./build.ts";
import { openLayer, reemitArchive, resolveInImage, writeContextFiles, type Owner } from "./copy-layer.ts";
import { fetchToFile } from "./fetch.ts";

const flag = (instr: Instruction, name: string) => instr.flags.find((f) => f.name === name);

function refuseFlags(instr: Instruction): void {
  for (const f of instr.flags) {
    if (["from", "chown", "chmod", "link"].includes(f.name)) continue;
    throw new PodError(`${instr.keyword} --${f.name} is not supported by pod build yet`, { exit: 125, hint: "see docs/compat.md; build without the flag" });
  }
}

/** --chown USER[:GROUP], names looked up in the destination image's /etc/passwd and /etc/group. */
function ownerOf(ctx: BuildContext, st: StageState, spec: string | undefined): Owner | undefined {
  if (spec === undefined || spec === "") return undefined;
  const [u, g] = spec.split(":") as [string, string | undefined];
  const view = stateView(ctx, st);
  const byName = (file: string) => new Map([...idNames(view.readText(file, () => undefined))].map(([id, name]) => [name, id]));
  const users = /^\d+$/.test(u) ? undefined : byName("/etc/passwd");
  const uid = /^\d+$/.test(u) ? Number(u) : users!.get(u);
  if (uid === undefined) throw new PodError(`looking up UID for "${u}": no such user in the image's /etc/passwd`, { exit: 125, hint: "use a numeric --chown=UID:GID, or create the user in an earlier RUN" });
  if (g === undefined) {
    if (/^\d+$/.test(u)) return { uid, gid: uid };
    const line = (view.readText("/etc/passwd", () => undefined) ?? "").split("\n").find((l) => l.split(":")[0] === u);
    return { uid, gid: Number(line?.split(":")[3] ?? uid) };
  }
  const gid = /^\d+$/.test(g) ? Number(g) : byName("/etc/group").get(g);
  if (gid === undefined) throw new PodError(`looking up GID for "${g}": no such group in the image's /etc/group`, { exit: 125, hint: "use a numeric --chown=UID:GID" });
  return { uid, gid };
}

function chmodOf(spec: string | undefined): number | undefined {
  if (spec === undefined) return undefined;
  if (!/^[0-7]{3,4}$/.test(spec)) throw new PodError(`invalid chmod ${JSON.stringify(spec)}: only octal modes are supported`, { exit: 125, hint: "for example --chmod=0755" });
  return parseInt(spec, 8);
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** A local file ADD unpacks: a tar, plain or compressed the ways pod reads (gzip, zstd). */
async function isArchive(path: string): Promise<boolean> {
  if (detectCompression(path) !== "none") return true;
  const head = new Uint8Array(await Bun.file(path).slice(257, 262).arrayBuffer());
  return new TextDecoder().decode(head) === "ustar";
}

export async function copyStep(ctx: BuildContext, st: StageState, instr: Instruction, stageIndex: number, scope: Map<string, string>, last: boolean): Promise<StageState> {
  const cf = ctx.req.containerfile;
  try {
    refuseFlags(instr);
    if (instr.args.length < 2) throw new PodError(`${instr.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`, { exit: 125 });
    const x = (s: string) => expand(s, scope, cf.escape);
    const words = instr.args.map(x);
    const rawDest = words[words.length - 1]!;
    const sources = words.slice(0, -1);
    const workdir = st.doc.config?.WorkingDir || "/";
    const destAbs = rawDest.startsWith("/") ? rawDest : posix.join(workdir, rawDest);
    const resolved = resolveInImage(stateView(ctx, st), destAbs);
    const trailing = rawDest.endsWith("/") || rawDest === "." || rawDest.endsWith("/.");
    const owner = ownerOf(ctx, st, flag(instr, "chown") ? x(flag(instr, "chown")!.value) : undefined);
    const chmod = chmodOf(flag(instr, "chmod") ? x(flag(instr, "chmod")!.value) : undefined);
    const from = flag(instr, "from");
    const flagsKey = JSON.stringify(instr.flags.filter((f) => f.name !== "from").map((f) => [f.name, x(f.value)]));
    if (from) return await copyFrom(ctx, st, instr, stageIndex, sources, { dest: resolved.path, destIsDir: trailing || sources.length > 1 || resolved.isDir }, owner, chmod, flagsKey, last);

    // heredocs and URLs become files of a private directory, hashed and copied like context files
    const extra = join(ctx.work, `sources-${stageIndex}-${instr.line}`);
    const contextual: string[] = [];
    const privateFiles: { word: string; name: string }[] = [];
    for (const s of sources) {
      const doc = instr.heredocs.find((h) => s === `<<${h.name}` || s === `<<-${h.name}` || s === `<<"${h.name}"` || s === `<<'${h.name}'`);
      if (doc) privateFiles.push({ word: s, name: doc.name });
      else if (isUrl(s)) {
        if (instr.keyword !== "ADD") throw new PodError(`source can't be a URL for COPY`, { exit: 125, hint: "use ADD for URLs" });
        privateFiles.push({ word: s, name: posix.basename(new URL(s).pathname) || "index.html" });
      } else contextual.push(s);
    }
    let files: SourceFile[] = [];
    let digest = "";
    if (contextual.length) {
      const r = await hashSources(ctx.req.contextDir, ctx.ignore, contextual, owner, { chmod, cache: ctx.hashes });
      files = r.files;
      digest = r.digest;
    }
    if (privateFiles.length) {
      mkdirSync(extra, { recursive: true });
      for (const p of privateFiles) {
        const doc = instr.heredocs.find((h) => h.name === p.name && p.word.includes(h.name));
        if (doc) writeFileSync(join(extra, p.name), doc.expand ? x(doc.body) : doc.body, { mode: 0o644 });
        else await fetchToFile(p.word, join(extra, p.name));
      }
      const r = await hashSources(extra, createMatcher([]), privateFiles.map((p) => p.name), owner, { chmod: chmod ?? (privateFiles.some((p) => isUrl(p.word)) ? 0o600 : undefined) });
      files = [...files, ...r.files.map((f) => ({ ...f, source: f.source + contextual.length }))];
      digest = `${digest}+${r.digest}`;
    }
    const single = sources.length === 1 && files.length === 1 && files[0]!.type === "file";
    const intoDir = trailing || !single || resolved.isDir;
    const key = stepKey(st.key, [instr.keyword, flagsKey, digest, resolved.path, String(intoDir)]);
    const hit = cached(ctx, key, last);
    if (hit) return fromCache(ctx, st, hit, key);
    const tar = join(ctx.work, `layer-${stageIndex}-${instr.line}.tar`);
    const out = openLayer(tar);
    try {
      // ADD unpacks a local archive into the destination; everything else is copied as it is
      const archives = instr.keyword === "ADD" ? await archiveFiles(files, sources.length) : new Set<SourceFile>();
      writeContextFiles(out, files.filter((f) => !archives.has(f)), resolved.path, intoDir);
      for (const a of archives) await reemitArchive(out, a.abs, { dest: resolved.path, owner, chmod });
    } finally {
      out.close();
    }
    const kind = single ? "file" : "dir";
    const createdBy = `/bin/sh -c #(nop) ${instr.keyword} ${kind}:${digest.replace(/^sha256:/, "").slice(0, 64)} in ${rawDest} `;
    const next = await commitStep(ctx, st, { key, createdBy, config: st.doc.config ?? {}, layerTar: tar });
    if (!last) ctx.say(`--> ${next.imageId!.slice(0, 12)}\n`);
    return next;
  } catch (e) {
    throw instructionError(cf.file, instr, e);
  }
}

/** ADD's sources that are archives: named files (not files inside a copied directory) that hold a tar. */
async function archiveFiles(files: SourceFile[], count: number): Promise<Set<SourceFile>> {
  const out = new Set<SourceFile>();
  for (const f of files) {
    if (f.type !== "file" || f.dest.includes("/") || f.source >= count) continue;
    if (await isArchive(f.abs)) out.add(f);
  }
  return out;
}

/** COPY --from=STAGE|IMAGE: each source path as a tar read in the storage namespace, re-emitted under dest. */
async function copyFrom(ctx: BuildContext, st: StageState, instr: Instruction, stageIndex: number, sources: string[], dest: { dest: string; destIsDir: boolean }, owner: Owner | undefined, chmod: number | undefined, flagsKey: string, last: boolean): Promise<StageState> {
  const edge = ctx.plan.edges.get(stageIndex)?.find((e) => e.instruction === instr);
  let layers: string[];
  let source: string;
  if (edge?.stage !== undefined) {
    const src = ctx.results.get(edge.stage)!;
    layers = stateLayers(ctx, src);
    source = `stage:${src.key}:${JSON.stringify(src.doc.rootfs?.diff_ids ?? [])}`;
  } else {
    const img = await imageFor(ctx, edge?.from ?? flag(instr, "from")!.value);
    layers = stateLayers(ctx, { ...st, doc: { rootfs: { type: "layers", diff_ids: img.layers } } });
    source = `image:${img.id}`;
  }
  for (const s of sources) if (/[*?[]/.test(s)) throw new PodError(`COPY --from with a wildcard source (${s}) is not supported by pod build yet`, { exit: 125, hint: "name the path itself" });
  const key = stepKey(st.key, [instr.keyword, "from", source, JSON.stringify(sources), dest.dest, String(dest.destIsDir), flagsKey]);
  const hit = cached(ctx, key, last);
  if (hit) return fromCache(ctx, st, hit, key);
  const tar = join(ctx.work, `layer-${stageIndex}-${instr.line}.tar`);
  const out = openLayer(tar);
  try {
    for (const [i, s] of sources.entries()) {
      const part = join(ctx.work, `from-${stageIndex}-${instr.line}-${i}.tar`);
      await imagePathTar(ctx.paths, layers, s.startsWith("/") ? s : `/${s}`, part, `the --from source of ${instr.keyword}`);
      await reemitArchive(out, part, { dest: dest.dest, single: { destIsDir: dest.destIsDir }, owner, chmod });
    }
  } finally {
    out.close();
  }
  const next = await commitStep(ctx, st, { key, createdBy: `/bin/sh -c #(nop) ${instr.original}`, config: st.doc.config ?? {}, layerTar: tar });
  if (!last) ctx.say(`--> ${next.imageId!.slice(0, 12)}\n`);
  return next;
}
