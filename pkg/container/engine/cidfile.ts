// `run --cidfile` / `create --cidfile`: the container's full ID in a file
// that must not exist yet. It appears complete or not at all (written to a
// temporary name beside it, then hard-linked into place, which fails if
// someone else made the file meanwhile), and goes away with the container,
// as podman's "The file will be removed along with the container".
import { existsSync, linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PodError } from "../../errors.ts";
import { log } from "../../output/index.ts";
import type { ContainerRecord } from "../record/records.ts";

const exists = (file: string) =>
  new PodError(`container id file exists: ${file}`, { hint: `ensure another container is not using it, or delete ${file}` });

/** Checked before the container is made, so a taken or unwritable path creates nothing. */
export function checkCidFile(file: string): string {
  const path = resolve(file);
  if (existsSync(path)) throw exists(file);
  const dir = dirname(path);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new PodError(`opening cidfile ${file}: ${dir}: no such directory`, { hint: "create the directory first, or pick another --cidfile path" });
  return path;
}

/** --conmon-pidfile: made absolute, its directory checked at create (conmon would fail the start). */
export function checkConmonPidfile(file: string): string {
  const path = resolve(file);
  const dir = dirname(path);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new PodError(`opening conmon pidfile ${file}: ${dir}: no such directory`, { hint: "create the directory first, or pick another --conmon-pidfile path" });
  return path;
}

/**
 * The pid of what supervises the container (its monitor; pod itself for a
 * foreground run), as conmon writes it: the number alone, replacing the file
 * at once (temp, then rename). The container already runs: a file that
 * cannot be written (its directory was checked at create) is a warning, not
 * a reason to leave it without its supervisor.
 */
export function writeConmonPidfile(rec: ContainerRecord, pid: number): void {
  const file = rec.config?.conmonPidfile;
  if (!file) return;
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, String(pid), { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    log.warn(`writing conmon pidfile ${file}: ${(e as Error).message}`);
  }
}

/** Writes `id` to `path` all at once; fails (and leaves nothing) if the file appeared meanwhile. */
export function writeCidFile(path: string, id: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, id, { mode: 0o644, flag: "wx" });
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && existsSync(path)) throw exists(path);
    throw new PodError(`writing cidfile ${path}: ${(e as Error).message}`, { hint: "pick another --cidfile path" });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes the --cidfile a container was created with, if it still holds that container's ID. */
export function removeCidFileOf(rec: ContainerRecord | undefined): void {
  const file = rec?.config?.cidfile;
  if (!file) return;
  try {
    if (readFileSync(file, "utf8").split("\n")[0] === rec!.id) rmSync(file, { force: true });
  } catch {
    // already gone, or no longer ours to read: nothing to clean up
  }
}
