// The shapes podman prints for images: the rows of `images` (also its JSON and
// template fields) and `image inspect`.
import { timeAgo, humanSize } from "../output/index.ts";
import type { ImageRecord, Store } from "../store/index.ts";

export type ImageSummary = {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  CreatedAt: string;
  Size: number;
  SharedSize: number;
  VirtualSize: number;
  Labels: Record<string, string> | null;
  Containers: number;
  Names: string[];
  Digest: string;
  Arch: string;
  Os: string;
  // template-only fields (podman computes these for --format)
  ID: string;
  Repository: string;
  Tag: string;
  CreatedSince: string;
  History: string[];
};

function splitName(name: string): [string, string] {
  const at = name.lastIndexOf(":");
  return at > name.lastIndexOf("/") ? [name.slice(0, at), name.slice(at + 1)] : [name, "<none>"];
}

export function readConfig(store: Store, img: ImageRecord): Record<string, any> {
  try {
    return JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${img.id}`)));
  } catch {
    return {};
  }
}

/** One row per name (podman lists an image once per repository:tag), or one `<none>` row. */
export function imageSummary(img: ImageRecord, now = Date.now(), labels: Record<string, string> | null = null): ImageSummary[] {
  const created = new Date(img.created);
  const base = {
    Id: img.id,
    ParentId: "",
    RepoTags: img.names,
    RepoDigests: img.repoDigests,
    Created: Math.floor(created.getTime() / 1000),
    CreatedAt: created.toISOString(),
    Size: img.size,
    SharedSize: 0,
    VirtualSize: img.size,
    Labels: labels,
    Containers: 0,
    Names: img.names,
    Digest: img.manifestDigest,
    Arch: img.architecture,
    Os: img.os,
    ID: img.id.slice(0, 12),
    CreatedSince: timeAgo(created, now),
    History: img.namesHistory ?? img.names,
  };
  const names = img.names.length ? img.names : ["<none>:<none>"];
  return names.map((n) => {
    const [Repository, Tag] = n === "<none>:<none>" ? ["<none>", "<none>"] : splitName(n);
    return { ...base, Repository, Tag };
  });
}

export function sizeText(n: number): string {
  return humanSize(n);
}

export function imageInspect(store: Store, img: ImageRecord): Record<string, unknown> {
  const config = readConfig(store, img);
  const c = config.config ?? {};
  return {
    Id: img.id,
    Digest: img.manifestDigest,
    RepoTags: img.names,
    RepoDigests: img.repoDigests,
    Parent: "",
    Comment: config.comment ?? "",
    Created: img.created,
    Config: {
      User: c.User ?? "",
      ExposedPorts: c.ExposedPorts,
      Env: c.Env ?? [],
      Entrypoint: c.Entrypoint ?? null,
      Cmd: c.Cmd ?? null,
      Volumes: c.Volumes,
      WorkingDir: c.WorkingDir ?? "",
      Labels: c.Labels ?? null,
      StopSignal: c.StopSignal,
    },
    Version: config.docker_version ?? "",
    Author: config.author ?? "",
    Architecture: img.architecture,
    Os: img.os,
    ...(img.variant ? { Variant: img.variant } : {}),
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Name: "overlay", Data: { LowerDir: img.layers.map((l) => store.layerDir(l) + "/diff").reverse().join(":") } },
    RootFS: { Type: "layers", Layers: img.layers },
    Labels: c.Labels ?? null,
    Annotations: store.imageAnnotations(img) ?? {},
    ManifestType: img.manifestMediaType,
    User: c.User ?? "",
    History: config.history ?? [],
    NamesHistory: img.namesHistory ?? img.names,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
  };
}
