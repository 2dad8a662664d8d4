// `pod manifest`: create, add, annotate, inspect, push, remove, rm, exists (multi-arch lists).
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { credentialsFlag } from "./_auth-flags.ts";
import { existsCommand } from "./_exists.ts";
import { Store } from "../pkg/store/index.ts";
import { uploadOptions } from "./push.ts";
import { addToList, annotateList, createList, inspectList, listExists, parseAnnotations, pushList, removeFromList, removeLists, type PlatformOverrides, type RemoteOptions } from "../pkg/manifest/index.ts";
import { rmiExitCode } from "../pkg/catalog/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, out } from "../pkg/output/index.ts";

const strings = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const list = (v: unknown): string[] | undefined => {
  const all = strings(v).flatMap((s) => s.split(",")).filter(Boolean);
  return all.length ? all : undefined;
};

const remoteArgs = {
  authfile: { type: "string", description: "Path of the authentication file", valueHint: "file" },
  "cert-dir": { type: "string", description: "Path to a directory of certificates (*.crt, *.cert, *.key) for the registry", valueHint: "dir" },
  creds: { type: "string", description: "Credentials USERNAME[:PASSWORD] for the registry", valueHint: "user:pass" },
  "tls-verify": { type: "boolean", description: "Require HTTPS and verify certificates when contacting registries", default: true },
} satisfies PodArgs;

const platformArgs = {
  arch: { type: "string", description: "Override the architecture of the image in the list", valueHint: "arch" },
  os: { type: "string", description: "Override the operating system of the image in the list", valueHint: "os" },
  variant: { type: "string", description: "Override the architecture variant of the image in the list", valueHint: "variant" },
  "os-version": { type: "string", description: "Override the OS version of the image in the list", valueHint: "version" },
  "os-features": { type: "string", multiple: true, description: "Override the OS features of the image in the list", valueHint: "features" },
  features: { type: "string", multiple: true, description: "Override the features of the image in the list", valueHint: "features" },
  annotation: { type: "string", multiple: true, description: "Set an annotation on the entry (KEY=VALUE)", valueHint: "annotation" },
} satisfies PodArgs;

function remote(args: Record<string, unknown>): RemoteOptions {
  return {
    tlsVerify: args["tls-verify"] !== false,
    credentials: credentialsFlag(args.creds as string | undefined),
    certDir: args["cert-dir"] as string | undefined,
    env: args.authfile ? { ...process.env, REGISTRY_AUTH_FILE: String(args.authfile) } : process.env,
  };
}

function platform(args: Record<string, unknown>): PlatformOverrides & { annotations: Record<string, string> } {
  return {
    arch: args.arch as string | undefined,
    os: args.os as string | undefined,
    variant: args.variant as string | undefined,
    osVersion: args["os-version"] as string | undefined,
    osFeatures: list(args["os-features"]),
    features: list(args.features),
    annotations: parseAnnotations(strings(args.annotation)),
  };
}

const storeOf = (args: Record<string, unknown>) => new Store(openContext(args as never).paths);

const createArgs = {
  all: { type: "boolean", description: "Add all of the contents of images that are lists themselves" },
  amend: { type: "boolean", alias: "a", description: "Modify an existing list if one with the same name exists" },
  annotation: { type: "string", multiple: true, description: "Set an annotation on the list (KEY=VALUE)", valueHint: "annotation" },
  "tls-verify": remoteArgs["tls-verify"],
  name: { type: "positional", description: "Name of the list" },
  image: { type: "positional", description: "Images to add", required: false },
} satisfies PodArgs;

export const create: PodCommand = {
  meta: { name: "create", description: "Create a manifest list" },
  examples: ["pod manifest create web", "pod manifest create web localhost/web-amd64 localhost/web-arm64", "pod manifest create --amend web"],
  args: createArgs,
  async run({ args }) {
    const [name, ...images] = args._ as string[];
    if (!name) throw new UsageError("`pod manifest create` takes a LIST name and optional IMAGEs", { hint: "pod manifest create LIST [IMAGE…]" });
    out(`${await createList(storeOf(args), name, images, { all: Boolean(args.all), amend: Boolean(args.amend), annotations: parseAnnotations(strings(args.annotation)), tlsVerify: args["tls-verify"] !== false })}\n`);
  },
};

const addArgs = {
  all: { type: "boolean", description: "Add all of the list's images if the image is a list" },
  ...platformArgs,
  ...remoteArgs,
  list: { type: "positional", description: "Manifest list", valueHint: "image" },
  image: { type: "positional", description: "Image to add: a local image, containers-storage:NAME or docker://REFERENCE" },
} satisfies PodArgs;

export const add: PodCommand = {
  meta: { name: "add", description: "Add an image to a manifest list" },
  examples: ["pod manifest add web localhost/web-arm64", "pod manifest add --arch arm64 --variant v8 web localhost/web-arm64", "pod manifest add --all web docker://localhost:5000/alpine"],
  args: addArgs,
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length !== 2) throw new UsageError("`pod manifest add` takes exactly a LIST and an IMAGE", { hint: "pod manifest add LIST IMAGE" });
    out(`${await addToList(storeOf(args), pos[0]!, pos[1]!, { all: Boolean(args.all), ...platform(args), ...remote(args) })}\n`);
  },
};

const annotateArgs = {
  ...platformArgs,
  index: { type: "boolean", description: "Apply --annotation values to the list itself" },
  list: { type: "positional", description: "Manifest list", valueHint: "image" },
  image: { type: "positional", description: "The entry: its digest or a local image", required: false },
} satisfies PodArgs;

export const annotate: PodCommand = {
  meta: { name: "annotate", description: "Add or update information about an entry in a manifest list" },
  examples: ["pod manifest annotate --arch arm64 --variant v8 web sha256:…", "pod manifest annotate --annotation team=web web localhost/web-arm64", "pod manifest annotate --index --annotation team=web web"],
  args: annotateArgs,
  async run({ args }) {
    const pos = args._ as string[];
    const index = Boolean(args.index);
    if (pos.length !== (index ? 1 : 2)) throw new UsageError(index ? "`pod manifest annotate --index` takes exactly a LIST" : "`pod manifest annotate` takes exactly a LIST and an IMAGE or digest", { hint: index ? "pod manifest annotate --index --annotation KEY=VALUE LIST" : "pod manifest annotate [flags] LIST sha256:…" });
    out(`${await annotateList(storeOf(args), pos[0]!, pos[1], { ...platform(args), index })}\n`);
  },
};

const inspectArgs = {
  authfile: remoteArgs.authfile,
  "tls-verify": remoteArgs["tls-verify"],
  list: { type: "positional", description: "Manifest list (local, or in a registry)", valueHint: "image" },
} satisfies PodArgs;

export const inspect: PodCommand = {
  meta: { name: "inspect", description: "Display the contents of a manifest list" },
  examples: ["pod manifest inspect web", "pod manifest inspect localhost:5000/alpine"],
  args: inspectArgs,
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length !== 1) throw new UsageError("`pod manifest inspect` takes exactly one LIST", { hint: "pod manifest inspect LIST" });
    out(await inspectList(storeOf(args), pos[0]!, remote(args)));
  },
};

const pushArgs = {
  all: { type: "boolean", description: "Push the images the list names, not only the list", default: true },
  ...remoteArgs,
  "compression-format": { type: "string", description: "Compression format to use", default: "gzip", valueHint: "gzip|zstd" },
  "compression-level": { type: "string", description: "Compression level to use", valueHint: "level" },
  digestfile: { type: "string", description: "Write the digest of the pushed list to the specified file", valueHint: "file" },
  format: { type: "string", alias: "f", description: "Manifest list type (oci or v2s2) to use (default: the list's own)", valueHint: "oci|v2s2" },
  quiet: { type: "boolean", alias: "q", description: "Do not print progress" },
  "remove-signatures": { type: "boolean", description: "Discard any pre-existing signatures (pod stores none)" },
  retry: { type: "string", description: "Number of times to retry in case of failure", default: "3", valueHint: "count" },
  rm: { type: "boolean", description: "Remove the manifest list if the push succeeds" },
  list: { type: "positional", description: "Manifest list", valueHint: "image" },
  destination: { type: "positional", description: "Where to: REGISTRY/REPOSITORY[:TAG] or docker://… (default: the list's name)", required: false, valueHint: "registry" },
} satisfies PodArgs;

export const push: PodCommand = {
  meta: { name: "push", description: "Push a manifest list to a registry" },
  examples: ["pod manifest push web localhost:5000/web:1", "pod manifest push --format v2s2 web docker://localhost:5000/web:1", "pod manifest push --rm web"],
  args: pushArgs,
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length < 1 || pos.length > 2) throw new UsageError("`pod manifest push` takes a LIST and an optional DESTINATION", { hint: "pod manifest push LIST [DESTINATION]" });
    await pushList(storeOf(args), pos[0]!, pos[1], {
      ...remote(args),
      all: args.all !== false,
      removeList: Boolean(args.rm),
      ...uploadOptions(args),
    });
  },
};

const removeArgs = {
  list: { type: "positional", description: "Manifest list", valueHint: "image" },
  digest: { type: "positional", description: "Digest of the entry to remove", valueHint: "digest" },
} satisfies PodArgs;

export const remove: PodCommand = {
  meta: { name: "remove", description: "Remove an entry from a manifest list" },
  examples: ["pod manifest remove web sha256:…"],
  args: removeArgs,
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length !== 2) throw new UsageError("`pod manifest remove` takes exactly a LIST and a DIGEST", { hint: "pod manifest remove LIST sha256:…" });
    out(`${await removeFromList(storeOf(args), pos[0]!, pos[1]!)}\n`);
  },
};

const rmArgs = {
  ignore: { type: "boolean", alias: "i", description: "Do not fail for lists that do not exist" },
  list: { type: "positional", description: "Manifest lists", valueHint: "image" },
} satisfies PodArgs;

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove manifest lists from local storage" },
  examples: ["pod manifest rm web", "pod manifest rm --ignore web maybe-gone"],
  args: rmArgs,
  async run({ args }) {
    const names = args._ as string[];
    if (!names.length) throw new UsageError("at least one manifest list must be specified", { hint: "pod manifest rm LIST…" });
    const r = await removeLists(storeOf(args), names, Boolean(args.ignore));
    out(r.untagged.map((n) => `Untagged: ${n}\n`).join("") + r.deleted.map((d) => `Deleted: ${d}\n`).join(""));
    if (!r.errors.length) return;
    for (const e of r.errors.slice(0, -1)) err(`Error: ${e.message}\n`);
    const last = r.errors.at(-1)!;
    throw new PodError(last.message, { hint: last.hint, exit: rmiExitCode(r.errors) });
  },
};

const exists = existsCommand("manifest", "web", (paths, name) => listExists(new Store(paths), name));

export const manifest: PodCommand = {
  meta: { name: "manifest", description: "Manipulate manifest lists and image indexes" },
  examples: ["pod manifest create web localhost/web-amd64 localhost/web-arm64", "pod manifest inspect web", "pod manifest push web localhost:5000/web:1"],
  subCommands: { add, annotate, create, exists, inspect, push, remove, rm } as never,
};
