// Image configs made on this machine (commit, import), pure: podman's
// `--change` instructions (c/common libimage ImageConfigFromChanges: "KEY
// VALUE" or "KEY=VALUE", JSON or shell form for CMD and ENTRYPOINT), a new
// layer on top of a parent's config, and its history entry.
import { PodError } from "../errors.ts";

export type ContainerConfig = {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  OnBuild?: string[];
  [k: string]: unknown;
};

export type HistoryEntry = { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean };

export type ImageConfigDoc = {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ContainerConfig;
  rootfs?: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [k: string]: unknown;
};

export const CHANGE_INSTRUCTIONS = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

const bad = (change: string, why: string) =>
  new PodError(`invalid change "${change}" - ${why}`, { hint: `--change takes one of ${CHANGE_INSTRUCTIONS.join(", ")}, as INSTRUCTION VALUE or INSTRUCTION=VALUE` });

/** "CMD /bin/sh", "CMD=/bin/sh", "CMD [\"a\"]": the instruction and its value. */
export function splitChange(change: string): { key: string; value: string } {
  const t = change.trim();
  const m = /^([A-Za-z]+)(?:\s+|=)([\s\S]*)$/.exec(t);
  if (!m) throw bad(change, "must be an instruction and a value");
  const key = m[1]!.toUpperCase();
  if (!CHANGE_INSTRUCTIONS.includes(key)) throw bad(change, `invalid instruction ${m[1]}`);
  const value = m[2]!.trim();
  if (value === "") throw bad(change, "the instruction needs a value");
  return { key, value };
}

/** JSON array form, else the shell form `/bin/sh -c VALUE`. */
function commandOf(value: string): string[] {
  if (value.startsWith("[")) {
    try {
      const a = JSON.parse(value);
      if (Array.isArray(a) && a.every((x) => typeof x === "string")) return a;
    } catch {
      // not JSON after all: the shell form, as docker reads it
    }
  }
  return ["/bin/sh", "-c", value];
}

/** `KEY=VALUE` or `KEY VALUE`. */
function pairOf(change: string, value: string): [string, string] {
  const eq = value.indexOf("=");
  const sp = value.search(/\s/);
  const at = eq >= 0 && (sp < 0 || eq < sp) ? eq : sp;
  if (at <= 0) throw bad(change, "needs KEY=VALUE");
  const unquote = (s: string) => (/^"[\s\S]*"$/.test(s) || /^'[\s\S]*'$/.test(s) ? s.slice(1, -1) : s);
  return [value.slice(0, at), unquote(value.slice(at + 1).trim())];
}

const SIGNALS = new Set(["HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]);

function stopSignal(change: string, v: string): string {
  const s = v.toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(s) ? Number(s) >= 1 && Number(s) <= 64 : SIGNALS.has(s) || /^RTM(IN|AX)([+-]\d+)?$/.test(s)) return /^\d+$/.test(s) ? s : `SIG${s}`;
  throw bad(change, `invalid signal ${v}`);
}

/** Applies --change instructions to a copy of `config` (order matters: the last one of a kind wins). */
export function applyChanges(config: ContainerConfig, changes: string[], o: { format: "oci" | "docker"; warn?: (m: string) => void } = { format: "oci" }): ContainerConfig {
  const c: ContainerConfig = structuredClone(config ?? {});
  for (const change of changes) {
    const { key, value } = splitChange(change);
    switch (key) {
      case "CMD":
        c.Cmd = commandOf(value);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = commandOf(value);
        break;
      case "USER":
        c.User = value;
        break;
      case "WORKDIR":
        c.WorkingDir = value.startsWith("/") ? value : `${(c.WorkingDir ?? "/").replace(/\/+$/, "")}/${value}`;
        break;
      case "STOPSIGNAL":
        c.StopSignal = stopSignal(change, value);
        break;
      case "ENV": {
        const [k, v] = pairOf(change, value);
        c.Env = [...(c.Env ?? []).filter((e) => e.split("=")[0] !== k), `${k}=${v}`];
        break;
      }
      case "LABEL": {
        const [k, v] = pairOf(change, value);
        c.Labels = { ...(c.Labels ?? {}), [k]: v };
        break;
      }
      case "EXPOSE":
        for (const p of value.split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw bad(change, `invalid port ${p}`);
          c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [p.includes("/") ? p.toLowerCase() : `${p}/tcp`]: {} };
        }
        break;
      case "VOLUME": {
        let vols: string[];
        try {
          vols = value.startsWith("[") ? JSON.parse(value) : value.split(/\s+/);
        } catch {
          throw bad(change, "VOLUME takes paths or a JSON array of paths");
        }
        for (const v of vols) {
          if (typeof v !== "string" || !v.startsWith("/")) throw bad(change, `volume ${JSON.stringify(v)} is not an absolute path`);
          c.Volumes = { ...(c.Volumes ?? {}), [v]: {} };
        }
        break;
      }
      case "ONBUILD":
        if (o.format === "oci") o.warn?.("ONBUILD is not supported for OCI image format, ONBUILD changes are dropped; use --format docker to keep them");
        else c.OnBuild = [...(c.OnBuild ?? []), value];
        break;
    }
  }
  return c;
}

export type NewLayer = {
  /** the new layer's diffID (absent: no layer, e.g. an empty commit) */
  diffID?: string;
  created: string;
  createdBy: string;
  author?: string;
  comment?: string;
  /** the container config after --change */
  config: ContainerConfig;
  /** replace the parent's layers with this one (--squash) */
  squash?: boolean;
};

/** The parent's config with one more layer and history entry. */
export function childConfig(parent: ImageConfigDoc, l: NewLayer): ImageConfigDoc {
  const diffIDs = l.squash ? [] : [...(parent.rootfs?.diff_ids ?? [])];
  if (l.diffID) diffIDs.push(l.diffID);
  const entry: HistoryEntry = { created: l.created, created_by: l.createdBy };
  if (l.author) entry.author = l.author;
  if (l.comment) entry.comment = l.comment;
  if (!l.diffID) entry.empty_layer = true;
  const doc: ImageConfigDoc = {
    ...parent,
    created: l.created,
    config: l.config,
    rootfs: { type: "layers", diff_ids: diffIDs },
    history: [...(l.squash ? [] : (parent.history ?? [])), entry],
  };
  if (l.author) doc.author = l.author;
  else delete doc.author;
  return doc;
}
