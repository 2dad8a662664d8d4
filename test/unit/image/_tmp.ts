// Temp directories for image tests: an explicit env and fake /etc, /usr/share, so
// nothing from the real HOME or the host's configuration leaks in.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ConfigRoots } from "../../../pkg/image/index.ts";

export type Sandbox = { dir: string; env: Record<string, string | undefined>; roots: ConfigRoots; write(rel: string, text: string): string };

const dirs: string[] = [];

/** Removes every sandbox made so far; each test file calls it from afterEach and afterAll. */
export function removeSandboxes(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function sandbox(uid = 1000): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "pod-image-test-"));
  dirs.push(dir);
  const write = (rel: string, text: string): string => {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  return {
    dir,
    env: { HOME: join(dir, "home") },
    roots: { systemDir: join(dir, "usr"), adminDir: join(dir, "etc"), dockerCertsDir: join(dir, "docker-certs"), uid },
    write,
  };
}

export function thrown(fn: () => unknown): Error & { hint?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { hint?: string };
  }
  throw new Error("expected an error");
}
