// Images leaving and entering the machine as files: save, load, import.
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { Store } from "../pkg/store/index.ts";
import { importTarball, loadArchive, parseSaveFormat, saveImages } from "../pkg/archive/index.ts";
import { platformFrom } from "./image.ts";
import { out, stdoutIsTTY } from "../pkg/output/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";

const saveArgs = {
  output: { type: "string", alias: "o", description: "Write to a specified file (default: stdout, which must be redirected)", valueHint: "file" },
  format: { type: "string", description: "Save image to docker-archive, oci-archive (tar files), oci-dir or docker-dir (directories)", default: "docker-archive", valueHint: "docker-archive|oci-archive|oci-dir|docker-dir" },
  "multi-image-archive": { type: "boolean", alias: "m", description: "Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)" },
  compress: { type: "boolean", description: "Compress tarball image layers when saving to a directory (oci-dir, docker-dir)" },
  quiet: { type: "boolean", alias: "q", description: "Suppress the output" },
  image: { type: "positional", description: "Image to save, then more names for it (or more images with -m)" },
} satisfies PodArgs;

export const save: PodCommand = {
  meta: { name: "save", description: "Save image(s) to an archive" },
  examples: ["pod save -o alpine.tar alpine", "pod save --format oci-archive alpine > alpine.oci.tar", "pod save -m -o both.tar alpine busybox"],
  args: saveArgs,
  async run({ args }) {
    const format = parseSaveFormat(String(args.format));
    const output = args.output as string | undefined;
    if (!output && stdoutIsTTY()) throw new PodError("refusing to save to terminal. Use -o flag or redirect", { hint: "pod save -o FILE IMAGE, or pod save IMAGE > FILE" });
    const store = new Store(openContext(args).paths);
    await saveImages(store, args._ as string[], {
      format,
      output,
      multiImage: Boolean(args["multi-image-archive"]),
      compress: Boolean(args.compress),
      quiet: Boolean(args.quiet),
    });
  },
};

export const load: PodCommand = {
  meta: { name: "load", description: "Load image(s) from a tar archive" },
  examples: ["pod load -i alpine.tar", "pod load < alpine.tar", "zstd -dc images.tar.zst | pod load"],
  args: {
    input: { type: "string", alias: "i", description: "Read from specified archive file (default: stdin)", valueHint: "file" },
    quiet: { type: "boolean", alias: "q", description: "Suppress the output" },
  },
  async run({ args }) {
    if ((args._ as string[]).length) throw new UsageError("`pod load` takes no arguments", { hint: "pod load -i FILE" });
    const input = args.input as string | undefined;
    if (!input && process.stdin.isTTY) throw new UsageError("cannot read from terminal, use command-line redirection or the --input flag", { hint: "pod load -i FILE, or pod load < FILE" });
    const store = new Store(openContext(args).paths);
    const loaded = await loadArchive(store, { input, quiet: Boolean(args.quiet) });
    const names = loaded.flatMap((l) => (l.names.length ? l.names : [`sha256:${l.id}`]));
    out(names.map((n) => `Loaded image: ${n}\n`).join(""));
  },
};

const importArgs = {
  change: { type: "string", alias: "c", multiple: true, description: "Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR", valueHint: "instruction" },
  message: { type: "string", alias: "m", description: "Set commit message for imported image", valueHint: "message" },
  platform: { type: "string", description: "Set the OS/ARCH[/VARIANT] of the image", valueHint: "os/arch" },
  quiet: { type: "boolean", alias: "q", description: "Suppress output" },
  source: { type: "positional", description: "Tarball: a file, a URL or - for standard input", valueHint: "file" },
  image: { type: "positional", description: "Name of the new image", required: false },
} satisfies PodArgs;

export const importCmd: PodCommand = {
  meta: { name: "import", description: "Import a tarball to create a filesystem image" },
  examples: ["pod import rootfs.tar localhost/rootfs:1", "pod export web | pod import - web-copy", "pod import -c 'CMD=/bin/sh' -m 'from a tarball' https://example.com/rootfs.tar.gz"],
  args: importArgs,
  async run({ args }) {
    const [source, target, ...extra] = args._ as string[];
    if (!source || extra.length) throw new UsageError("`pod import` takes a FILE, URL or - and an optional IMAGE", { hint: "pod import rootfs.tar localhost/rootfs:1" });
    const store = new Store(openContext(args).paths);
    const platform = platformFrom(args);
    const img = await importTarball(store, source, target, {
      changes: (args.change as string[] | undefined) ?? [],
      message: args.message as string | undefined,
      platform,
      quiet: Boolean(args.quiet),
    });
    out(`sha256:${img.id}\n`);
  },
};
