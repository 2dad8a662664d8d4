// Image commands: pull, images, tag, untag, rmi, image inspect, and the `image` group.
import type { PodArgs, PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { existsCommand } from "./_exists.ts";
import { Store } from "../pkg/store/index.ts";
import { pullImage } from "../pkg/pull/index.ts";
import { hostPlatform, parsePlatform } from "../pkg/registry/index.ts";
import { imageInspect, imageSummary, lookupImage, removeImages, tagImage, untagImage } from "../pkg/catalog/index.ts";
import { formatItems, formatValue, humanSize, out, err } from "../pkg/output/index.ts";
import { ImageUnknown, PodError, UsageError } from "../pkg/errors.ts";
import { credentialsFlag } from "./_auth-flags.ts";

const pullArgs = {
  quiet: { type: "boolean", alias: "q", description: "Suppress output information when pulling images" },
  platform: { type: "string", description: "Pull the image for this platform (os/arch[/variant])", valueHint: "os/arch" },
  arch: { type: "string", description: "Use ARCH instead of the host's architecture", valueHint: "arch" },
  os: { type: "string", description: "Use OS instead of the running OS", valueHint: "os" },
  variant: { type: "string", description: "Use VARIANT instead of the default architecture variant", valueHint: "variant" },
  "tls-verify": { type: "boolean", description: "Require HTTPS and verify certificates when contacting registries", default: true },
  creds: { type: "string", description: "Credentials USERNAME[:PASSWORD] for the registry", valueHint: "user:pass" },
  authfile: { type: "string", description: "Path of the authentication file", valueHint: "file" },
  image: { type: "positional", description: "Image to pull" },
} satisfies PodArgs;

export function platformFrom(args: Record<string, unknown>) {
  if (args.platform && (args.arch || args.os || args.variant))
    throw new UsageError("--platform cannot be combined with --arch, --os or --variant", { hint: "use --platform os/arch[/variant]" });
  const p = args.platform ? parsePlatform(String(args.platform)) : hostPlatform();
  if (args.arch) p.architecture = String(args.arch);
  if (args.os) p.os = String(args.os);
  if (args.variant) p.variant = String(args.variant);
  else if (args.arch) delete p.variant;
  return p;
}

export const pull: PodCommand = {
  meta: { name: "pull", description: "Pull an image from a registry" },
  examples: ["pod pull alpine", "pod pull --platform linux/arm64 docker.io/library/alpine:3.20", "pod pull -q quay.io/podman/hello"],
  args: pullArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const env = args.authfile ? { ...process.env, REGISTRY_AUTH_FILE: String(args.authfile) } : process.env;
    const store = new Store(ctx.paths);
    const inputs = args._ as string[];
    if (inputs.length !== 1) throw new UsageError("`pod pull` requires exactly one IMAGE", { hint: "pod pull alpine" });
    const res = await pullImage(store, inputs[0]!, {
      platform: platformFrom(args),
      quiet: Boolean(args.quiet),
      tlsVerify: args["tls-verify"] !== false,
      credentials: credentialsFlag(args.creds as string | undefined),
      env,
    });
    out(`${res.id}\n`);
  },
};

const imageTable = {
  table: "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
  headers: { ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Repository: "REPOSITORY", Tag: "TAG", Size: "SIZE", Digest: "DIGEST" },
};

export const images: PodCommand = {
  meta: { name: "images", description: "List images in local storage" },
  examples: ["pod images", "pod images -q", "pod images --format '{{.Repository}}:{{.Tag}}'", "pod images --format json"],
  args: {
    all: { type: "boolean", alias: "a", description: "Show all images (intermediate images too)" },
    quiet: { type: "boolean", alias: "q", description: "Display only image IDs" },
    "no-trunc": { type: "boolean", description: "Do not truncate output" },
    digests: { type: "boolean", description: "Show digests" },
    noheading: { type: "boolean", alias: "n", description: "Do not print column headings" },
    ...formatArg,
    image: { type: "positional", description: "Show only images of this repository", required: false },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    let list = store.images().sort((a, b) => b.created.localeCompare(a.created));
    const filterName = (args._ as string[])[0];
    if (filterName) {
      const want = lookupRepo(filterName);
      list = list.filter((i) => i.names.some((n) => want(n)));
    }
    if (args.quiet) {
      const ids = [...new Set(list.map((i) => (args["no-trunc"] ? `sha256:${i.id}` : i.id.slice(0, 12))))];
      return out(ids.map((i) => i + "\n").join(""));
    }
    const now = Date.now();
    if (args.format === "json") return out(formatItems("json", list.map((i) => jsonOf(imageSummary(i, now)[0]!, i.labels ?? null)), imageTable));
    const rows = list.flatMap((i) => imageSummary(i, now)).map((s) => ({
      ...s,
      ID: args["no-trunc"] ? `sha256:${s.Id}` : s.ID,
      Size: humanSize(s.Size),
    }));
    const spec = args.digests
      ? { ...imageTable, table: "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}" }
      : imageTable;
    out(formatItems(args.format as string | undefined, rows, spec, { noHeading: Boolean(args.noheading) }));
  },
};

function jsonOf(s: ReturnType<typeof imageSummary>[number], labels: Record<string, string> | null) {
  const { ID: _i, Repository: _r, Tag: _t, CreatedSince: _c, ...json } = s;
  return { ...json, Labels: labels };
}

function lookupRepo(input: string): (name: string) => boolean {
  const noTag = !/:[^/]*$/.test(input);
  return (n: string) => {
    const repo = n.replace(/:[^/:]*$/, "");
    if (noTag) return repo === input || repo.endsWith(`/${input}`);
    return n === input || n.endsWith(`/${input}`);
  };
}

export const tag: PodCommand = {
  meta: { name: "tag", description: "Add an additional name to a local image" },
  examples: ["pod tag alpine myregistry.example.com/tools/alpine:3"],
  args: {
    image: { type: "positional", description: "Source image" },
    target: { type: "positional", description: "New name(s)" },
  },
  async run({ args }) {
    const [src, ...targets] = args._ as string[];
    const ctx = openContext(args);
    await tagImage(new Store(ctx.paths), src!, targets);
  },
};

export const untag: PodCommand = {
  meta: { name: "untag", description: "Remove names from a local image (all of them when none is given)" },
  examples: ["pod untag alpine", "pod untag 3f53bb00af94 localhost/web:1"],
  args: {
    image: { type: "positional", description: "Image (name or ID)" },
    name: { type: "positional", description: "Names to remove", required: false },
  },
  async run({ args }) {
    const [src, ...names] = args._ as string[];
    if (!src) throw new UsageError("`pod untag` requires at least one IMAGE", { hint: "pod untag IMAGE [NAME...]" });
    await untagImage(new Store(openContext(args).paths), src, names);
  },
};

export const rmi: PodCommand = {
  meta: { name: "rmi", description: "Remove one or more images from local storage" },
  examples: ["pod rmi alpine", "pod rmi -f 3f53bb00af94", "pod rmi -a"],
  args: {
    all: { type: "boolean", alias: "a", description: "Remove all images" },
    force: { type: "boolean", alias: "f", description: "Remove the image even if it has several names, and the containers that use it" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors if a specified image does not exist" },
    image: { type: "positional", description: "Images to remove", required: false },
  },
  async run({ args }) {
    const inputs = args._ as string[];
    if (!args.all && !inputs.length) throw new UsageError("image name or ID must be specified", { hint: "pod rmi IMAGE, or pod rmi -a" });
    if (args.all && inputs.length) throw new UsageError("when using the --all switch, you may not pass any image names or IDs", { hint: "pod rmi -a" });
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    const r = await removeImages(store, inputs, { force: Boolean(args.force), all: Boolean(args.all), users: (await import("../pkg/container/image-users.ts")).imageUsers(ctx.paths) });
    out(r.untagged.map((n) => `Untagged: ${n}\n`).join("") + r.deleted.map((d) => `Deleted: ${d}\n`).join(""));
    const errors = args.ignore ? r.errors.filter((e) => !/image not known/.test(e.message)) : r.errors;
    if (errors.length > 1) for (const e of errors.slice(0, -1)) err(`Error: ${e.message}\n`);
    if (errors.length) throw errors.at(-1)!;
  },
};

export const imageInspectCmd: PodCommand = {
  meta: { name: "inspect", description: "Display the configuration of images" },
  examples: ["pod image inspect alpine", "pod image inspect --format '{{.Config.Cmd}}' alpine"],
  args: { ...formatArg, image: { type: "positional", description: "Images to inspect" } },
  async run({ args }) {
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    const all = store.images();
    const found: unknown[] = [];
    const missing: PodError[] = [];
    for (const name of args._ as string[]) {
      try {
        found.push(imageInspect(store, lookupImage(store, name, all)));
      } catch (e) {
        if (!(e instanceof PodError)) throw e;
        missing.push(e);
      }
    }
    if (found.length) out(formatValue(args.format as string | undefined, found));
    else if (!args.format) out("[]\n");
    if (missing.length) throw missing.at(-1)!;
  },
};

export const imageExists = existsCommand("image", "alpine", (paths, name) => {
  try {
    lookupImage(new Store(paths), name);
    return true;
  } catch (e) {
    if (e instanceof ImageUnknown) return false;
    throw e;
  }
});

export const image: PodCommand = {
  meta: { name: "image", description: "Manage images" },
  examples: ["pod image ls", "pod image pull alpine", "pod image inspect --format '{{.Id}}' alpine"],
  subCommands: {
    pull,
    ls: images,
    list: images,
    tag,
    untag,
    rm: rmi,
    exists: imageExists,
    inspect: imageInspectCmd,
  } as never,
};
