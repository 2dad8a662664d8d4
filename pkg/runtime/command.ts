// What the container runs and where: the image's Entrypoint and Cmd combined
// with `--entrypoint` and the command line as docker does it (docker run
// reference, "ENTRYPOINT (default command to execute at runtime)").
import { posix } from "node:path";
import { PodError, UsageError } from "../errors.ts";

export type CommandInput = {
  imageEntrypoint?: string[] | null;
  imageCmd?: string[] | null;
  /** --entrypoint as typed: a program, a JSON array, or "" to clear the image's */
  entrypoint?: string;
  /** the arguments after the image name */
  command: string[];
};

/** --entrypoint '["sh","-c"]' is a list, anything else a single program. */
function parseEntrypoint(flag: string): string[] {
  if (flag === "") return [];
  if (flag.trimStart().startsWith("[")) {
    try {
      const v: unknown = JSON.parse(flag);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  return [flag];
}

/**
 * The argv: entrypoint then cmd. --entrypoint replaces the image's entrypoint
 * and also discards the image's Cmd; a command given on the command line
 * replaces Cmd. Throws PodError when nothing is left to run.
 */
export function resolveArgv(i: CommandInput): string[] {
  const given = i.entrypoint !== undefined;
  const entrypoint = given ? parseEntrypoint(i.entrypoint!) : (i.imageEntrypoint ?? []);
  const cmd = i.command.length > 0 ? i.command : given ? [] : (i.imageCmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0 || argv[0] === "") {
    throw new PodError("no command specified", {
      hint: "the image has no CMD or ENTRYPOINT: give the command after the image name, e.g. `pod run IMAGE sh`",
    });
  }
  return argv;
}

function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** -w, else the image's WorkingDir (relative ones taken from /), else "/". */
export function resolveWorkdir(flag: string | undefined, imageWorkdir: string | undefined): string {
  if (flag !== undefined && flag !== "") {
    if (!flag.startsWith("/")) {
      throw new UsageError(`invalid working directory ${JSON.stringify(flag)}: it must be an absolute path`, {
        hint: `use -w /${flag.replace(/^\.?\/*/, "")}`,
      });
    }
    return cleanPath(flag);
  }
  if (imageWorkdir) return cleanPath(posix.join("/", imageWorkdir));
  return "/";
}
