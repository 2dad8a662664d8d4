// --security-opt, podman's grammar (KEY=VALUE, or docker's older KEY:VALUE):
// no-new-privileges, seccomp=, label=, apparmor=, mask=, unmask=,
// systempaths=, proc-opts=. Every value is checked; what pod cannot do is
// refused, never ignored.
import { UsageError } from "../errors.ts";

export type SeccompChoice = { kind: "default" } | { kind: "unconfined" } | { kind: "file"; path: string };

export type SecurityOpts = {
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
  /** more paths to hide (mask=/a:/b) */
  mask: string[];
  /** default masked and read-only paths left open (unmask=/a:/b, unmask=ALL, systempaths=unconfined) */
  unmask: string[] | "ALL";
  /** /proc's mount options (proc-opts=hidepid=2,subset=pid) */
  procOpts?: string;
};

const HINT = "pod takes no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json, label=…, apparmor=unconfined, mask=PATHS, unmask=ALL|PATHS, systempaths=unconfined and proc-opts=OPTIONS";

/** SELinux label options podman takes; on hosts without SELinux (these) they change nothing, as in podman. */
const LABEL = /^(disable|nested|(user|role|type|level|filetype):.+)$/;

function paths(key: string, v: string, raw: string): string[] {
  const list = v.split(":").filter(Boolean);
  if (!list.length || list.some((p) => !p.startsWith("/")))
    throw new UsageError(`invalid --security-opt ${JSON.stringify(raw)}: ${key}= takes absolute paths separated by ":"`, { hint: `e.g. --security-opt ${key}=/proc/kcore:/sys/firmware` });
  return list;
}

export function parseSecurityOpts(values: readonly string[]): SecurityOpts {
  const out: SecurityOpts = { noNewPrivileges: false, seccomp: { kind: "default" }, mask: [], unmask: [] };
  for (const raw of values) {
    const m = /^([a-z-]+)(?:[=:]([\s\S]*))?$/.exec(raw);
    const key = m?.[1];
    const v = m?.[2];
    const bad = (why = "") =>
      new UsageError(`unsupported --security-opt ${JSON.stringify(raw)}${why ? `: ${why}` : ""}`, { hint: HINT });
    switch (key) {
      case "no-new-privileges":
        if (v !== undefined && v !== "true" && v !== "false") throw bad("no-new-privileges takes true or false");
        out.noNewPrivileges = v !== "false";
        break;
      case "seccomp":
        if (!v) throw bad("seccomp= needs unconfined or a profile's path");
        out.seccomp = v === "unconfined" ? { kind: "unconfined" } : { kind: "file", path: v };
        break;
      case "label":
        if (!v || !LABEL.test(v)) throw bad("label= takes disable, nested, user:U, role:R, type:T, level:L or filetype:F");
        break;
      case "apparmor":
        // podman: a profile on a host without AppArmor is an error; unconfined is what there is anyway
        if (v !== "unconfined") throw bad("pod applies no AppArmor profiles; only apparmor=unconfined is accepted");
        break;
      case "mask":
        out.mask.push(...paths("mask", v ?? "", raw));
        break;
      case "unmask":
        if (v === "ALL") out.unmask = "ALL";
        else if (out.unmask !== "ALL") out.unmask.push(...paths("unmask", v ?? "", raw));
        break;
      case "systempaths":
        if (v !== "unconfined") throw bad("systempaths= takes unconfined");
        out.unmask = "ALL";
        break;
      case "proc-opts":
        if (!v || !/^[\w=.,:+-]+$/.test(v)) throw bad("proc-opts= takes mount options of proc, e.g. hidepid=2");
        out.procOpts = out.procOpts ? `${out.procOpts},${v}` : v;
        break;
      default:
        throw bad();
    }
  }
  return out;
}

/** HostConfig.SecurityOpt as podman's inspect shows it: what was asked for, no-new-privileges in its short form. */
export function inspectSecurityOpts(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (/^no-new-privileges([=:]false)$/.test(v)) continue;
    const s = /^no-new-privileges([=:]true)?$/.test(v) ? "no-new-privileges" : v.replace(/^([a-z-]+):/, "$1=");
    if (!out.includes(s)) out.push(s);
  }
  return out;
}
