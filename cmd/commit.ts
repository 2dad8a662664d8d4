// `pod commit`: a container's changes become an image.
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { writeFileAtomic } from "../pkg/store/index.ts";
import { commitContainer } from "../pkg/container/index.ts";
import { out } from "../pkg/output/index.ts";
import { UsageError } from "../pkg/errors.ts";
import { CHANGE_INSTRUCTIONS } from "../pkg/archive/image-config.ts";

const commitArgs = {
  author: { type: "string", alias: "a", description: "Set the author for the image committed", valueHint: "author" },
  change: { type: "string", alias: "c", multiple: true, description: `Apply the following possible instructions to the created image: ${CHANGE_INSTRUCTIONS.join(" | ")}`, valueHint: "instruction" },
  format: { type: "string", alias: "f", description: "Format of the image manifest and metadata", default: "oci", valueHint: "oci|docker" },
  iidfile: { type: "string", description: "Write the image ID to the file", valueHint: "file" },
  "include-volumes": { type: "boolean", description: "Include container volumes as image volumes" },
  message: { type: "string", alias: "m", description: "Set commit message for imported image", valueHint: "message" },
  pause: { type: "boolean", alias: "p", description: "Pause container during commit" },
  quiet: { type: "boolean", alias: "q", description: "Suppress output" },
  squash: { type: "boolean", alias: "s", description: "Squash newly built layers into a single new layer" },
  container: { type: "positional", description: "Container to commit" },
  image: { type: "positional", description: "Name of the new image", required: false },
} satisfies PodArgs;

export const commit: PodCommand = {
  meta: { name: "commit", description: "Create new image based on the changed container" },
  examples: ["pod commit web localhost/web:v2", "pod commit -c 'CMD=/bin/sh -c \"echo hi\"' -m 'add hi' web hi", "pod commit -q --squash web flat"],
  args: commitArgs,
  async run({ args }) {
    const [ctr, target, ...extra] = args._ as string[];
    if (!ctr || extra.length) throw new UsageError("`pod commit` takes a CONTAINER and an optional IMAGE", { hint: "pod commit web localhost/web:v2" });
    const format = String(args.format);
    if (format !== "oci" && format !== "docker") throw new UsageError(`unrecognized image type "${format}"`, { hint: "--format takes oci or docker" });
    const img = await commitContainer(openContext(args).paths, ctr, target, {
      author: args.author as string | undefined,
      message: args.message as string | undefined,
      changes: (args.change as string[] | undefined) ?? [],
      format,
      pause: Boolean(args.pause),
      quiet: Boolean(args.quiet),
      squash: Boolean(args.squash),
      includeVolumes: Boolean(args["include-volumes"]),
    });
    if (args.iidfile) writeFileAtomic(String(args.iidfile), `sha256:${img.id}`);
    out(`${img.id}\n`);
  },
};
