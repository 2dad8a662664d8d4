// Platforms (os/architecture/variant) and choosing an index entry for one.
// Normalisation follows containerd's platforms package: Go architecture names
// (amd64, arm64, arm, 386, ...), arm64 without a variant means v8, arm without
// one means v7, and amd64 v1 is the same as no variant. A host that runs
// armv7 also runs v6 and v5, and amd64 v3 also runs v2 and v1.
import { endianness } from "node:os";
import { PodError } from "../errors.ts";
import type { Descriptor, ImageIndex } from "./manifest.ts";

export type Platform = { os: string; architecture: string; variant?: string };

const ARCH_ALIASES: Record<string, Platform> = {
  x86_64: { os: "", architecture: "amd64" },
  "x86-64": { os: "", architecture: "amd64" },
  aarch64: { os: "", architecture: "arm64" },
  armhf: { os: "", architecture: "arm", variant: "v7" },
  armel: { os: "", architecture: "arm", variant: "v6" },
  i386: { os: "", architecture: "386" },
  i686: { os: "", architecture: "386" },
};

const NODE_ARCH: Record<string, Omit<Platform, "os">> = {
  x64: { architecture: "amd64" },
  arm64: { architecture: "arm64", variant: "v8" },
  arm: { architecture: "arm", variant: "v7" },
  ia32: { architecture: "386" },
  s390x: { architecture: "s390x" },
  riscv64: { architecture: "riscv64" },
  loong64: { architecture: "loong64" },
  mips: { architecture: "mips" },
  mipsel: { architecture: "mipsle" },
  mips64el: { architecture: "mips64le" },
};

/** The platform of the machine pod runs on. pod runs Linux containers only, so os is always "linux". */
export function hostPlatform(): Platform {
  const a = process.arch;
  if (a === "ppc64") return { os: "linux", architecture: endianness() === "LE" ? "ppc64le" : "ppc64" };
  return { os: "linux", ...(NODE_ARCH[a] ?? { architecture: a }) };
}

/** Parses "os/arch[/variant]" as in `--platform linux/arm64/v8`, normalising aliases such as x86_64. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new PodError(`parsing platform ${JSON.stringify(s)}: want os/arch or os/arch/variant`, {
      hint: "for example linux/amd64 or linux/arm64/v8",
    });
  }
  const [os = "", architecture = "", variant] = parts;
  const alias = ARCH_ALIASES[architecture];
  const p: Platform = { os, architecture: alias?.architecture ?? architecture };
  const v = variant ?? alias?.variant;
  if (v !== undefined) p.variant = v;
  return p;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

function normalVariant(architecture: string, variant: string | undefined): string {
  const v = variant === undefined || variant === "" ? "" : variant.startsWith("v") ? variant : `v${variant}`;
  if (architecture === "arm64" && (v === "" || v === "v8.0")) return "v8";
  if (architecture === "arm" && v === "") return "v7";
  if (architecture === "amd64" && v === "") return "v1";
  return v;
}

/** Variants acceptable for `want`, best first. */
function variantPreference(architecture: string, variant: string): string[] {
  const lowest: Record<string, number> = { arm: 5, amd64: 1 };
  const floor = lowest[architecture];
  const n = /^v(\d+)$/.exec(variant)?.[1];
  if (floor === undefined || n === undefined) return [variant];
  const out: string[] = [];
  for (let i = Number(n); i >= floor; i--) out.push(`v${i}`);
  return out.length > 0 ? out : [variant];
}

/**
 * The index entry for `want`. Throws PodError naming the platforms the index
 * offers when none fits. Entries without a platform, and attestation entries
 * (platform unknown/unknown), are never chosen.
 */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const arch = ARCH_ALIASES[want.architecture]?.architecture ?? want.architecture;
  const candidates = index.manifests.filter((d) => d.platform?.os === want.os && d.platform.architecture === arch);
  for (const v of variantPreference(arch, normalVariant(arch, want.variant))) {
    const hit = candidates.find((d) => normalVariant(arch, d.platform?.variant) === v);
    if (hit !== undefined) return hit;
  }
  const offered = [
    ...new Set(index.manifests.flatMap((d) => (d.platform && d.platform.os !== "unknown" ? [formatPlatform(d.platform)] : []))),
  ];
  const what = `choosing an image for ${formatPlatform(want)}`;
  if (offered.length === 0) throw new PodError(`${what}: the image index lists no platforms`);
  throw new PodError(`${what}: the image is only available for ${offered.join(", ")}`, {
    hint: `pass --platform with one of: ${offered.join(", ")}`,
  });
}
