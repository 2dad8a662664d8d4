// The Context every command gets: resolved paths and the parsed global flags.
import type { Parsed } from "./_args.ts";
import { engineOptions, resolvePaths, type EngineFlags, type Paths } from "../pkg/config/index.ts";

export type Context = { paths: Paths; args: Parsed };

export function openContext(args: Parsed): Context {
  return {
    paths: { ...resolvePaths({ root: args.root as string | undefined, runroot: args.runroot as string | undefined }), engine: engineOptions(args as EngineFlags) },
    args,
  };
}
