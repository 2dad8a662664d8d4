// The --secret value of run/create (podman pkg/specgenutil parseSecrets):
//   NAME[,type=mount|env][,target=T][,uid=U][,gid=G][,mode=M]
// type=mount (the default) is a read-only file at /run/secrets/NAME, or at
// target (relative targets land under /run/secrets); type=env sets the
// variable target (default NAME). uid, gid and mode (octal, default 0444)
// apply to mounts only. Pure.
import { posix } from "node:path";
import { UsageError } from "../errors.ts";
import type { SecretRef } from "../runtime/index.ts";

export type { SecretRef as SecretRequest };

const HINT = "use --secret NAME[,type=mount|env][,target=PATH|VAR][,uid=UID][,gid=GID][,mode=0400]";

export function parseSecretFlag(value: string): SecretRef {
  const bad = (why: string) => new UsageError(`invalid --secret ${JSON.stringify(value)}: ${why}`, { hint: HINT });
  const [name, ...rest] = value.split(",");
  if (!name || name.includes("=")) throw bad("it must start with the secret's name");
  let type: string | undefined;
  let target: string | undefined;
  const ids: Partial<Record<"uid" | "gid" | "mode", number>> = {};
  for (const kv of rest) {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const val = eq < 0 ? "" : kv.slice(eq + 1);
    if (eq < 0 || val === "") throw bad(`${JSON.stringify(kv)} is not KEY=VALUE`);
    if (key === "type") {
      if (val !== "mount" && val !== "env") throw bad(`type must be mount or env, not ${JSON.stringify(val)}`);
      type = val;
    } else if (key === "target") target = val;
    else if (key === "uid" || key === "gid") {
      if (!/^\d+$/.test(val) || Number(val) > 0xfffffffe) throw bad(`${key} must be a number`);
      ids[key] = Number(val);
    } else if (key === "mode") {
      if (!/^0?[0-7]{1,3}$/.test(val)) throw bad(`mode must be an octal mode such as 0400`);
      ids.mode = parseInt(val, 8);
    } else throw bad(`unknown option ${JSON.stringify(key)}`);
  }
  if (type === "env") {
    if (Object.keys(ids).length) throw bad("uid, gid and mode apply to type=mount only");
    const v = target ?? name;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw bad(`${JSON.stringify(v)} is not an environment variable name`);
    return { name, type: "env", target: v, uid: 0, gid: 0, mode: 0 };
  }
  const path = posix.normalize(posix.isAbsolute(target ?? "") ? target! : posix.join("/run/secrets", target ?? name));
  if (path === "/" || path.includes(":")) throw bad(`the target ${JSON.stringify(target)} is not a file path`);
  return { name, type: "mount", target: path, uid: ids.uid ?? 0, gid: ids.gid ?? 0, mode: ids.mode ?? 0o444 };
}
