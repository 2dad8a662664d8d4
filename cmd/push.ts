// `pod push`: a local image to a registry, or into a layout or archive.
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { credentialsFlag } from "./_auth-flags.ts";
import { Store } from "../pkg/store/index.ts";
import { parseCompression, pushImage } from "../pkg/push/index.ts";
import { UsageError } from "../pkg/errors.ts";

const pushArgs = {
  authfile: { type: "string", description: "Path of the authentication file", valueHint: "file" },
  "cert-dir": { type: "string", description: "Path to a directory of certificates (*.crt, *.cert, *.key) for the registry", valueHint: "dir" },
  "compression-format": { type: "string", description: "Compression format to use", default: "gzip", valueHint: "gzip|zstd" },
  "compression-level": { type: "string", description: "Compression level to use", valueHint: "level" },
  creds: { type: "string", description: "Credentials USERNAME[:PASSWORD] for the registry", valueHint: "user:pass" },
  "digestfile": { type: "string", description: "Write the digest of the pushed image to the specified file", valueHint: "file" },
  format: { type: "string", alias: "f", description: "Manifest type (oci or v2s2) to use (default: the image's own)", valueHint: "oci|v2s2" },
  quiet: { type: "boolean", alias: "q", description: "Suppress output information when pushing images" },
  "remove-signatures": { type: "boolean", description: "Discard any pre-existing signatures in the image (pod stores none)" },
  retry: { type: "string", description: "Number of times to retry in case of failure when performing push", default: "3", valueHint: "count" },
  "tls-verify": { type: "boolean", description: "Require HTTPS and verify certificates when contacting registries", default: true },
  image: { type: "positional", description: "Image to push" },
  destination: { type: "positional", description: "Where to: REGISTRY/REPOSITORY[:TAG], docker://…, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR", required: false, valueHint: "registry" },
} satisfies PodArgs;

function count(flag: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`invalid ${flag} "${String(v)}"`, { hint: `${flag} takes a whole number of at least ${min}` });
  return n;
}

/** What `push` and `manifest push` share: the manifest format, compression, digest file, quiet and retries. */
export function uploadOptions(args: Record<string, unknown>) {
  const format = args.format as string | undefined;
  if (format !== undefined && format !== "oci" && format !== "v2s2") throw new UsageError(`unsupported manifest type "${format}"`, { hint: "--format takes oci or v2s2 (v2s1 is not supported)" });
  return {
    format: format as "oci" | "v2s2" | undefined,
    compression: parseCompression(String(args["compression-format"])),
    compressionLevel: count("--compression-level", args["compression-level"], 0),
    digestFile: args.digestfile as string | undefined,
    quiet: Boolean(args.quiet),
    retry: (count("--retry", args.retry, 0) ?? 3) + 1,
  };
}

export const push: PodCommand = {
  meta: { name: "push", description: "Push an image to a specified destination" },
  examples: ["pod push localhost:5000/web:1", "pod push web docker://registry.example.com/team/web:1", "pod push --compression-format zstd --format oci web quay.io/me/web", "pod push web oci-archive:/tmp/web.tar"],
  args: pushArgs,
  async run({ args }) {
    const [image, destination, ...extra] = args._ as string[];
    if (!image || extra.length) throw new UsageError("`pod push` takes an IMAGE and an optional DESTINATION", { hint: "pod push IMAGE [DESTINATION]" });
    const upload = uploadOptions(args);
    const env = args.authfile ? { ...process.env, REGISTRY_AUTH_FILE: String(args.authfile) } : process.env;
    const store = new Store(openContext(args).paths);
    await pushImage(store, image, destination, {
      tlsVerify: args["tls-verify"] !== false,
      credentials: credentialsFlag(args.creds as string | undefined),
      certDir: args["cert-dir"] as string | undefined,
      ...upload,
      env,
    });
  },
};
