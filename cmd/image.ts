// Image commands: pull, images, tag, untag, rmi, image inspect, and the `image` group.
import type { PodArgs, PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { existsCommand } from "./_exists.ts";
import { Store } from "../pkg/store/index.ts";
import { isArchiveReference, pullImage } from "../pkg/pull/index.ts";
import { hostPlatform, parsePlatform } from "../pkg/registry/index.ts";
import { checkImageSort, historyOf, IMAGE_SORT_FIELDS, imageInspect, imageSummary, imageTree, listImages, lookupImage, pruneImages, removeImages, rmiExitCode, sortImageRows, tagImage, untagImage } from "../pkg/catalog/index.ts";
import { formatItems, formatValue, humanSize, timeAgo, out, err } from "../pkg/output/index.ts";
import { ImageUnknown, PodError, UsageError } from "../pkg/errors.ts";
import { credentialsFlag } from "./_auth-flags.ts";
import { sweepBuildCache } from "../pkg/build/executor/cache.ts";

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
  headers: { ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Repository: "REPOSITORY", Tag: "TAG", Size: "SIZE", Digest: "DIGEST", History: "HISTORY" },
};

const filterHint = "dangling=true, label=KEY[=VALUE], reference=NAME, before=IMAGE, since=IMAGE, until=TIME, id=ID, intermediate=BOOL, readonly=BOOL";

const imagesArgs = {
  all: { type: "boolean", alias: "a", description: "Show all images (intermediate images too)" },
  filter: { type: "string", alias: "f", multiple: true, description: `Show only the images the filter matches (${filterHint})`, valueHint: "filter" },
  quiet: { type: "boolean", alias: "q", description: "Display only image IDs" },
  "no-trunc": { type: "boolean", description: "Do not truncate output" },
  digests: { type: "boolean", description: "Show digests" },
  history: { type: "boolean", description: "Display the image name history" },
  sort: { type: "string", description: "Sort by this field", default: "created", valueHint: IMAGE_SORT_FIELDS.join("|") },
  noheading: { type: "boolean", alias: "n", description: "Do not print column headings" },
  ...formatArg,
  image: { type: "positional", description: "Show only images of this repository", required: false },
} satisfies PodArgs;

export const images: PodCommand = {
  meta: { name: "images", description: "List images in local storage" },
  examples: ["pod images", "pod images -q", "pod images --filter dangling=true", "pod images --sort repository --format '{{.Repository}}:{{.Tag}}'", "pod images --format json"],
  args: imagesArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    const filters = (args.filter as unknown as string[]).flatMap(splitFilter);
    const name = (args._ as string[])[0];
    if (name && filters.length) throw new UsageError("cannot specify an image and a filter(s)", { hint: `use --filter reference=${name} beside the other filters` });
    if ((args._ as string[]).length > 1) throw new UsageError("`pod images` takes at most one IMAGE", { hint: "pod images --filter reference=NAME" });
    const sortBy = checkImageSort(String(args.sort));
    const usesContainers = filters.some((f) => f.startsWith("containers"));
    const users = usesContainers ? (await import("../pkg/container/record/image-users.ts")).imageUsers(ctx.paths) : undefined;
    const list = listImages(store, { all: Boolean(args.all), filters: name ? [`reference=${name}`] : filters, users });
    const now = Date.now();
    const summaries = sortImageRows(list.flatMap((i) => imageSummary(i, now)), sortBy);
    if (args.format === "json") {
      const seen = new Set<string>();
      const firsts = summaries.filter((s) => !seen.has(s.Id) && seen.add(s.Id));
      return out(formatItems("json", firsts.map((s) => jsonOf(s, list.find((i) => i.id === s.Id)!.labels ?? null)), imageTable));
    }
    if (args.quiet) {
      const ids = [...new Set(summaries.map((s) => (args["no-trunc"] ? `sha256:${s.Id}` : s.ID)))];
      return out(ids.map((i) => i + "\n").join(""));
    }
    const rows = summaries.map((s) => ({ ...s, ID: args["no-trunc"] ? `sha256:${s.Id}` : s.ID, Size: humanSize(s.Size), History: s.History.join(", ") || "<none>" }));
    const cols = ["{{.Repository}}", "{{.Tag}}", ...(args.digests ? ["{{.Digest}}"] : []), "{{.ID}}", "{{.CreatedSince}}", "{{.Size}}", ...(args.history ? ["{{.History}}"] : [])];
    out(formatItems(args.format as string | undefined, rows, { ...imageTable, table: cols.join("\t") }, { noHeading: Boolean(args.noheading) }));
  },
};

/** podman's images --filter is a string slice: `a=1,b=2` is two filters. */
function splitFilter(v: string): string[] {
  return v.split(",").filter(Boolean);
}

function jsonOf(s: ReturnType<typeof imageSummary>[number], labels: Record<string, string> | null) {
  const { ID: _i, Repository: _r, Tag: _t, CreatedSince: _c, ...json } = s;
  return { ...json, Labels: labels };
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
  examples: ["pod rmi alpine", "pod rmi -f 3f53bb00af94", "pod rmi -a", "pod rmi --ignore maybe-gone"],
  args: {
    all: { type: "boolean", alias: "a", description: "Remove all images" },
    force: { type: "boolean", alias: "f", description: "Remove the image even if it has several names, and the containers that use it; a missing image is no error" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors if a specified image does not exist" },
    "no-prune": { type: "boolean", description: "Do not remove the dangling parent images of removed images" },
    image: { type: "positional", description: "Images to remove", required: false },
  },
  async run({ args }) {
    const inputs = args._ as string[];
    if (!args.all && !inputs.length) throw new UsageError("image name or ID must be specified", { hint: "pod rmi IMAGE, or pod rmi -a" });
    if (args.all && inputs.length) throw new UsageError("when using the --all switch, you may not pass any image names or IDs", { hint: "pod rmi -a" });
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    const users = (await import("../pkg/container/record/image-users.ts")).imageUsers(ctx.paths);
    const r = await removeImages(store, inputs, {
      force: Boolean(args.force),
      all: Boolean(args.all),
      users,
      noPrune: Boolean(args["no-prune"]),
      ignore: Boolean(args.ignore || args.force),
    });
    out(r.untagged.map((n) => `Untagged: ${n}\n`).join("") + r.deleted.map((d) => `Deleted: ${d}\n`).join(""));
    if (!r.errors.length) return;
    for (const e of r.errors.slice(0, -1)) err(`Error: ${e.message}\n`);
    const last = r.errors.at(-1)!;
    throw new PodError(last.message, { hint: last.hint, exit: rmiExitCode(r.errors) });
  },
};

async function answerYes(question: string): Promise<boolean> {
  err(`${question}\nAre you sure you want to continue? [y/N] `);
  for await (const line of console) return /^y/i.test(line);
  err("\n");
  throw new PodError("reading the answer from stdin: EOF", { hint: "answer y on stdin, or pass -f to prune without asking" });
}

const pruneArgs = {
  all: { type: "boolean", alias: "a", description: "Remove all images not in use by containers, not just dangling ones" },
  force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
  filter: { type: "string", multiple: true, description: "Prune only the images the filter matches (until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE], and the images filters)", valueHint: "filter" },
} satisfies PodArgs;

export const imagePrune: PodCommand = {
  meta: { name: "prune", description: "Remove unused images" },
  examples: ["pod image prune -f", "pod image prune -a -f", "pod image prune -f --filter until=24h", "pod image prune -af --filter label=stage=build"],
  args: pruneArgs,
  async run({ args }) {
    if ((args._ as string[]).length) throw new UsageError("`pod image prune` takes no arguments", { hint: "pod image prune -f --filter reference=NAME" });
    const ctx = openContext(args);
    if (!args.force) {
      const what = args.all ? "all images without at least one container associated with them" : "all dangling images";
      if (!(await answerYes(`WARNING! This command removes ${what}.`))) return;
    }
    const filters = (args.filter as unknown as string[]).map((f) => {
      if (!f.includes("=")) throw new PodError(`filter input must be in the form of filter=value: ${f} is invalid`, { hint: "pod image prune -f --filter until=24h" });
      return f;
    });
    const users = (await import("../pkg/container/record/image-users.ts")).imageUsers(ctx.paths);
    const store = new Store(ctx.paths);
    const removed = await pruneImages(store, { all: Boolean(args.all), filters, users });
    await sweepBuildCache(store, { mounts: false });
    out(removed.map((id) => `${id}\n`).join(""));
  },
};

export const imageTreeCmd: PodCommand = {
  meta: { name: "tree", description: "Print the layer hierarchy of an image in a tree format" },
  examples: ["pod image tree alpine", "pod image tree --whatrequires alpine"],
  args: {
    whatrequires: { type: "boolean", description: "Show all child images and layers of the specified image" },
    image: { type: "positional", description: "Image" },
  },
  async run({ args }) {
    const inputs = args._ as string[];
    if (inputs.length !== 1) throw new UsageError("`pod image tree` requires exactly one IMAGE", { hint: "pod image tree alpine" });
    out(imageTree(new Store(openContext(args).paths), inputs[0]!, Boolean(args.whatrequires)) + "\n");
  },
};

const historyTable = {
  table: "{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
  headers: { CreatedBy: "CREATED BY", CreatedAt: "CREATED AT", CreatedSince: "CREATED SINCE" },
};

export const history: PodCommand = {
  meta: { name: "history", description: "Show history of a specified image" },
  examples: ["pod history alpine", "pod history --no-trunc --format '{{.ID}} {{.CreatedBy}}' alpine", "pod history -q alpine"],
  args: {
    human: { type: "boolean", alias: "H", default: true, description: "Display sizes and dates in human readable format (--human=false for RFC 3339 dates)" },
    "no-trunc": { type: "boolean", description: "Do not truncate the output" },
    quiet: { type: "boolean", alias: "q", description: "Display the numeric IDs only" },
    ...formatArg,
    image: { type: "positional", description: "Image" },
  },
  async run({ args }) {
    const inputs = args._ as string[];
    if (inputs.length !== 1) throw new UsageError("`pod history` requires exactly one IMAGE", { hint: "pod history alpine" });
    const layers = historyOf(new Store(openContext(args).paths), inputs[0]!);
    const format = args.format as string | undefined;
    if (format === "json") {
      const rfc3339 = (t: string) => new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
      const json = layers.map((l) => ({ id: l.id, created: l.created, ...(l.createdBy ? { CreatedBy: l.createdBy } : {}), size: l.size, ...(l.comment ? { comment: l.comment } : {}), Created: rfc3339(l.created) }));
      return out(JSON.stringify(json) + "\n");
    }
    const noTrunc = Boolean(args["no-trunc"]);
    const now = Date.now();
    const rows = layers.map((l) => {
      const since = timeAgo(l.created, now);
      return {
        ID: !noTrunc && l.id.length >= 12 ? l.id.slice(0, 12) : l.id,
        Created: args.human === false ? new Date(l.created).toISOString().replace(/\.\d+Z$/, "Z") : since,
        CreatedSince: since,
        CreatedAt: goTime(l.created),
        CreatedBy: !noTrunc && l.createdBy.length > 45 ? l.createdBy.slice(0, 42) + "..." : l.createdBy,
        Size: humanSize(l.size),
        Comment: l.comment,
        Tags: [],
      };
    });
    if (args.quiet) return out(rows.map((r) => `${r.ID}\n`).join(""));
    out(formatItems(format, rows, historyTable));
  },
};

/** Go's time.Time String() in UTC, as podman's CreatedAt prints it: "2024-01-02 03:04:05 +0000 UTC". */
function goTime(t: string): string {
  return new Date(Math.floor(Date.parse(t) / 1000) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000 UTC");
}

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
        // docker-archive:, oci-archive:, oci: name a file: its image is loaded first, as run and pull do
        const input = isArchiveReference(name) ? (await pullImage(store, name, { platform: hostPlatform(), quiet: true })).id : name;
        found.push(imageInspect(store, lookupImage(store, input, input === name ? all : undefined)));
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
    prune: imagePrune,
    tree: imageTreeCmd,
    history,
    exists: imageExists,
    inspect: imageInspectCmd,
    save: () => import("./archive.ts").then((m) => m.save),
    load: () => import("./archive.ts").then((m) => m.load),
    import: () => import("./archive.ts").then((m) => m.importCmd),
    push: () => import("./push.ts").then((m) => m.push),
    build: () => import("./build.ts").then((m) => m.build),
  } as never,
};
