// `--user` / the image's USER resolved the way docker and runc do it
// (runc libcontainer/user GetExecUser): a name must exist in the image's
// /etc/passwd, a number need not; `:group` names come from /etc/group;
// supplementary groups are the /etc/group entries listing the user by name.
import { PodError, UsageError } from "../errors.ts";
import { readImageFile } from "./imagefs.ts";

export type ResolvedUser = {
  uid: number;
  gid: number;
  /** supplementary groups from /etc/group membership, without the primary gid */
  groups: number[];
  home: string;
  /** the passwd name, when the uid has an entry */
  name?: string;
};

type PasswdEntry = { name: string; uid: number; gid: number; home: string };
type GroupEntry = { name: string; gid: number; members: string[] };

/** Largest id accepted: (uid_t)-1 is "no change" to setresuid, so it cannot be a user. */
const MAX_ID = 2 ** 32 - 2;

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function lines(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.split(":"));
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? "");
    const gid = parseId(f[3] ?? "");
    if (!f[0] || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || "/" });
  }
  return out;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? "");
    if (!f[0] || gid === undefined) continue;
    const members = (f[3] ?? "").split(",").map((m) => m.trim()).filter(Boolean);
    out.push({ name: f[0], gid, members });
  }
  return out;
}

function splitSpec(spec: string): { user: string; group?: string } {
  const i = spec.indexOf(":");
  if (i < 0) return { user: spec };
  const user = spec.slice(0, i);
  const group = spec.slice(i + 1);
  if (user === "" || group === "" || group.includes(":")) {
    throw new UsageError(`invalid user ${JSON.stringify(spec)}`, {
      hint: "give --user as NAME, UID, NAME:GROUP or UID:GID",
    });
  }
  return { user, group };
}

function findUser(spec: string, user: string, passwd: PasswdEntry[]): PasswdEntry | undefined {
  const uid = parseId(user);
  const byName = passwd.find((p) => p.name === user);
  if (byName) return byName;
  if (uid !== undefined) return passwd.find((p) => p.uid === uid);
  if (/^-?\d+$/.test(user)) {
    throw new UsageError(`invalid user ${JSON.stringify(spec)}: uid out of range`, {
      hint: `a uid is a number from 0 to ${MAX_ID}`,
    });
  }
  throw new PodError(`unable to find user ${user}: no matching entries in passwd file`, {
    hint: `the image's /etc/passwd has no user ${user}: give a numeric uid (--user 1000:1000) or use a user the image defines`,
  });
}

function findGroupId(spec: string, group: string, groups: GroupEntry[]): number {
  const byName = groups.find((g) => g.name === group);
  if (byName) return byName.gid;
  const gid = parseId(group);
  if (gid !== undefined) return gid;
  if (/^-?\d+$/.test(group)) {
    throw new UsageError(`invalid user ${JSON.stringify(spec)}: gid out of range`, {
      hint: `a gid is a number from 0 to ${MAX_ID}`,
    });
  }
  throw new PodError(`unable to find group ${group}: no matching entries in group file`, {
    hint: `the image's /etc/group has no group ${group}: give a numeric gid (--user ${spec.split(":")[0]}:1000)`,
  });
}

/**
 * Resolves a user spec ("" | name | uid | name:group | uid:gid) against the
 * image's /etc/passwd and /etc/group. "" is root. Throws PodError for a name
 * the image does not define, UsageError for a malformed spec.
 */
export function resolveUser(spec: string, layerDirs: string[]): ResolvedUser {
  const { user, group } = splitSpec(spec === "" ? "0" : spec);
  const passwd = parsePasswd(readImageFile(layerDirs, "/etc/passwd"));
  const entry = findUser(spec, user, passwd);
  const uid = entry?.uid ?? parseId(user)!;
  const groupFile = parseGroup(readImageFile(layerDirs, "/etc/group"));
  const gid = group !== undefined ? findGroupId(spec, group, groupFile) : (entry?.gid ?? 0);
  const groups: number[] = [];
  // An explicit group replaces the user's memberships (podman: `-u 0:1000` has groups=1000 only).
  if (entry && group === undefined) {
    for (const g of groupFile) {
      if (g.gid !== gid && g.members.includes(entry.name) && !groups.includes(g.gid)) groups.push(g.gid);
    }
  }
  const home = entry?.home ?? (uid === 0 ? "/root" : "/");
  return entry ? { uid, gid, groups, home, name: entry.name } : { uid, gid, groups, home };
}

/**
 * --group-add values: group names of the image's /etc/group, or gids.
 * `keep-groups` (the user's own supplementary groups, as crun keeps them)
 * stands alone, as in podman.
 */
export function resolveGroupAdd(values: string[], layerDirs: string[]): { keep: boolean; gids: number[] } {
  if (values.includes("keep-groups")) {
    if (values.length > 1)
      throw new UsageError("the '--group-add keep-groups' option is not allowed with any other --group-add options", { hint: "use either --group-add keep-groups or a list of groups" });
    return { keep: true, gids: [] };
  }
  const groupFile = values.length ? parseGroup(readImageFile(layerDirs, "/etc/group")) : [];
  const gids = values.map((v) => {
    const byName = groupFile.find((g) => g.name === v);
    if (byName) return byName.gid;
    const gid = parseId(v);
    if (gid !== undefined) return gid;
    throw new PodError(`unable to find group ${v}: no matching entries in group file`, {
      hint: `the image's /etc/group has no group ${v}: give a numeric gid (--group-add 1000)`,
    });
  });
  return { keep: false, gids };
}
