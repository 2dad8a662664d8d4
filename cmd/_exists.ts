// The `exists` verbs (container, image, volume, network, secret): exit 0 when the object is
// there, 1 when not, nothing printed, as podman's.
import type { PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { UsageError } from "../pkg/errors.ts";
import type { Paths } from "../pkg/config/index.ts";

export function existsCommand(noun: "container" | "image" | "volume" | "network" | "secret" | "manifest", example: string, exists: (paths: Paths, name: string) => boolean): PodCommand {
  return {
    meta: { name: "exists", description: `Check whether ${noun === "image" ? "an image exists in local storage" : noun === "manifest" ? "a manifest list exists in local storage" : `a ${noun} exists`} (exit 0) or not (exit 1)` },
    examples: [`pod ${noun} exists ${example} && echo yes`],
    args: { [noun]: { type: "positional", description: `${noun[0]!.toUpperCase()}${noun.slice(1)} name${noun === "volume" ? "" : " or ID"}` } },
    async run({ args }) {
      const names = args._ as string[];
      if (names.length !== 1) throw new UsageError(`\`pod ${noun} exists\` takes exactly one name`, { hint: `pod ${noun} exists ${example}` });
      return exists(openContext(args).paths, names[0]!) ? 0 : 1;
    },
  };
}
