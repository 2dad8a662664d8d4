// How `pod events` prints an event: podman's human line (ToHumanReadable),
// and the value its Go templates see.
import { goTimeString, type PodEvent } from "./event.ts";

const short = (id: string | undefined, truncate: boolean) => (id && truncate ? id.slice(0, 12) : (id ?? ""));

/** podman's default line, e.g. `2024-01-01 12:00:00.1 +0000 UTC container start ID (image=…, name=…)`. */
export function humanLine(e: PodEvent, truncate: boolean): string {
  const head = `${goTimeString(e.Time)} ${e.Type} ${e.Status}`;
  const id = short(e.ID, truncate);
  switch (e.Type) {
    case "container":
    case "pod": {
      // Go ranges over a map in random order; pod sorts the labels
      const attrs = Object.entries(e.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `${head} ${id} (image=${e.Image ?? ""}, name=${e.Name ?? ""}${attrs.map(([k, v]) => `, ${k}=${v}`).join("")})`;
    }
    case "network":
      if (e.Status === "create" || e.Status === "remove") return `${head} ${e.ID ?? ""} (name=${e.Network ?? ""}, type=${e.Attributes?.driver ?? ""})`;
      return `${head} ${id} (container=${id}, name=${e.Network ?? ""})`;
    case "image":
      return `${head} ${id} ${e.Name ?? ""}`;
    case "volume":
      return `${head} ${e.Name ?? ""}`;
    default:
      return e.Name ? `${head} ${e.Name}` : head;
  }
}

/** What `--format '{{…}}'` sees: podman's Event fields, Time as Go prints a time.Time. */
export function templateView(e: PodEvent): Record<string, unknown> {
  return {
    ID: e.ID ?? "",
    Image: e.Image ?? "",
    Name: e.Name ?? "",
    Network: e.Network ?? "",
    Status: e.Status,
    Time: goTimeString(e.Time),
    Type: e.Type,
    Attributes: e.Attributes ?? {},
    ContainerExitCode: e.ContainerExitCode ?? 0,
  };
}
