// Judging the host facts: one check per prerequisite, each "ok", "warn"
// (pod works, with less: no resource limits, slower root filesystems) or
// "fail" (rootless containers as pod makes them do not work), with the exact
// command that fixes it. Pure: the facts and probe results come in.
import { dirname } from "node:path";
import { humanSize } from "../output/index.ts";
import type { Distro, HostFacts, IdHelper, SubIds } from "./facts.ts";

export type Status = "ok" | "warn" | "fail";
export type Check = { name: string; status: Status; message: string; fix?: string };

/** What doctor tried for real: creating the storage, mounting overlay in a user namespace. */
export type Probes = {
  storage: { ok: true } | { ok: false; error: string; hint?: string };
  overlay: { ok: true } | { ok: false; error: string } | { skipped: string };
};

const MIN_IDS = 65536;
const MIN_FREE = 1e9;

type Manager = "apt" | "dnf" | "pacman" | "apk" | "zypper";
const INSTALL: Record<Manager, string> = {
  apt: "sudo apt-get install -y",
  dnf: "sudo dnf install -y",
  pacman: "sudo pacman -S --noconfirm",
  apk: "sudo apk add",
  zypper: "sudo zypper install -y",
};
const PACKAGES: Record<string, Partial<Record<Manager, string>>> = {
  uidmap: { dnf: "shadow-utils", pacman: "shadow", apk: "shadow-uidmap", zypper: "shadow" },
};

function manager(d: Distro): Manager {
  const ids = [d.id, ...d.like];
  if (ids.some((i) => ["fedora", "rhel", "centos"].includes(i))) return "dnf";
  if (ids.includes("arch")) return "pacman";
  if (ids.includes("alpine")) return "apk";
  if (ids.some((i) => i.includes("suse"))) return "zypper";
  return "apt";
}

/** The install command for a package named as Debian names it. */
export function install(d: Distro, debianName: string): string {
  const m = manager(d);
  return `${INSTALL[m]} ${PACKAGES[debianName]?.[m] ?? debianName}`;
}

const ok = (name: string, message: string): Check => ({ name, status: "ok", message });
const warn = (name: string, message: string, fix: string): Check => ({ name, status: "warn", message, fix });
const fail = (name: string, message: string, fix: string): Check => ({ name, status: "fail", message, fix });
const sysctlFix = (key: string, value: number) =>
  `echo '${key}=${value}' | sudo tee /etc/sysctl.d/99-rootless.conf && sudo sysctl --system`;

export function checkUserns(f: HostFacts): Check {
  if (f.apparmorRestrict === 1)
    return fail("userns", "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)", sysctlFix("kernel.apparmor_restrict_unprivileged_userns", 0));
  if (f.maxUserNamespaces === undefined)
    return fail("userns", "this kernel has no user namespaces (/proc/sys/user/max_user_namespaces is missing)", "boot a kernel built with CONFIG_USER_NS=y");
  if (f.maxUserNamespaces === 0) return fail("userns", "user namespaces are disabled (user.max_user_namespaces = 0)", sysctlFix("user.max_user_namespaces", 28633));
  if (f.unprivilegedUsernsClone === 0)
    return fail("userns", "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)", sysctlFix("kernel.unprivileged_userns_clone", 1));
  return ok("userns", `user namespaces are enabled (user.max_user_namespaces = ${f.maxUserNamespaces})`);
}

export function checkIdHelper(h: IdHelper, d: Distro): Check {
  if (!h.path) return fail(h.name, `${h.name} is not installed: pod needs it to map your subordinate ids`, install(d, "uidmap"));
  if (!h.onPath) return fail(h.name, `${h.name} is at ${h.path} but not in PATH, where pod looks for it`, `export PATH="$PATH:${dirname(h.path)}"`);
  if (!h.setuid && !h.fileCaps) return fail(h.name, `${h.path} is neither setuid root nor has file capabilities`, `sudo chmod u+s ${h.path}`);
  return ok(h.name, `${h.path} (${h.setuid ? "setuid root" : "file capabilities"})`);
}

export function checkSubIds(s: SubIds, kind: "uid" | "gid", user: string): Check {
  const name = `sub${kind}`;
  const fix = `sudo usermod --add-sub${kind}s ${s.nextFree}-${s.nextFree + MIN_IDS - 1} ${user}`;
  if (s.count === 0)
    return fail(name, `no subordinate ${kind} range for ${user} in ${s.file}${s.readable ? "" : " (cannot read it)"}: pod falls back to a single-id user namespace`, fix);
  const ranges = s.ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(", ");
  if (s.count < MIN_IDS)
    return warn(name, `${user} has only ${s.count} subordinate ${kind}s in ${s.file} (${ranges}): images with ${kind}s above ${s.count} cannot be stored`, fix);
  return ok(name, `${s.count} subordinate ${kind}s for ${user} in ${s.file} (${ranges})`);
}

export function checkStorage(p: Probes["storage"], root: string): Check {
  if (!p.ok) return fail("storage", `storage root ${root}: ${p.error}`, p.hint ?? "choose another location with --root or POD_ROOT");
  return ok("storage", `${root} is yours`);
}

export function checkOverlay(p: Probes["overlay"], f: HostFacts): Check {
  if ("skipped" in p) return warn("overlay", `not probed: ${p.skipped}`, "run pod doctor as the user who runs containers");
  if (p.ok) return ok("overlay", "kernel overlay mounts in a user namespace (rootfs driver: overlay)");
  const why = `kernel overlay fails in a user namespace (${p.error})`;
  if (!f.fuseOverlayfs.path) return warn("overlay", `${why}: containers fall back to copying layers (vfs)`, install(f.distro, "fuse-overlayfs"));
  if (!f.fuse.usable) return warn("overlay", `${why}, and ${f.fuse.path} is not usable: containers fall back to copying layers (vfs)`, `sudo chmod 0666 ${f.fuse.path}`);
  return ok("overlay", `${why}: fuse-overlayfs (${f.fuseOverlayfs.path}) is used instead`);
}

export function checkFuse(f: HostFacts, overlayWorks: boolean): Check {
  const d = f.fuse;
  if (d.usable) return ok("fuse", `${d.path} is readable and writable`);
  const state = d.exists ? `${d.path} is not readable and writable by you (mode ${d.mode})` : `${d.path} does not exist`;
  if (overlayWorks) return ok("fuse", `${state}; not needed while kernel overlay works`);
  return warn("fuse", `${state}: fuse-overlayfs cannot run`, d.exists ? `sudo chmod 0666 ${d.path}` : "sudo modprobe fuse");
}

export function checkNetwork(f: HostFacts): Check {
  const found = [f.pasta, f.slirp4netns].filter((t) => t.path);
  const usable = found.find((t) => t.onPath);
  // pasta first, as the default picks it (containers.conf's default_rootless_network_cmd may pick the other)
  if (usable) return ok("network", `${usable.name}: ${usable.path} (the default network's helper)`);
  if (found.length) return fail("network", `${found[0]!.name} is at ${found[0]!.path} but not in PATH`, `export PATH="$PATH:${dirname(found[0]!.path!)}"`);
  return fail("network", "neither pasta nor slirp4netns is installed: containers cannot have a network of their own", install(f.distro, "passt"));
}

export function checkTun(f: HostFacts): Check {
  const d = f.tun;
  if (d.usable) return ok("tun", `${d.path} is readable and writable`);
  if (!d.exists) return fail("tun", `${d.path} does not exist: pasta and slirp4netns need it`, "sudo modprobe tun");
  return fail("tun", `${d.path} is not readable and writable by you (mode ${d.mode}): pasta and slirp4netns need it`, `sudo chmod 0666 ${d.path}`);
}

const WANTED = ["cpu", "memory", "pids"];
const UNIFIED_FIX = "add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, run sudo update-grub, and reboot";
const DELEGATE_FIX =
  "sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, then log in again";

export function checkCgroups(f: HostFacts): Check {
  const c = f.cgroups;
  const offered = c.controllers.length ? c.controllers.join(" ") : "none";
  if (c.version === "unknown") return warn("cgroups", "cannot read /proc/self/cgroup: resource limits are unavailable", "mount /proc");
  if (c.version !== "v2")
    return warn("cgroups", `${c.version === "hybrid" ? `hybrid hierarchy (v1: ${c.v1Controllers.join(" ")}; v2 offers ${offered})` : "cgroup v1 only"}: pod cannot enforce --memory, --cpus or --pids-limit`, UNIFIED_FIX);
  const missing = WANTED.filter((w) => !c.controllers.includes(w));
  if (missing.length || !c.writable)
    return warn("cgroups", `cgroup v2, but ${c.writable ? `${missing.join(", ")} not delegated to you (offered: ${offered})` : `${c.path} is not writable by you`}: limits cannot be enforced`, DELEGATE_FIX);
  return ok("cgroups", `cgroup v2; controllers delegated to you: ${offered}`);
}

export function checkRuntimeDir(f: HostFacts, runroot: string): Check {
  const r = f.runtimeDir;
  const fix = `sudo loginctl enable-linger ${f.user}, log in again, and check that XDG_RUNTIME_DIR is /run/user/${f.uid}`;
  if (!r.path) return warn("runtime-dir", `XDG_RUNTIME_DIR is not set: pod keeps runtime state in ${runroot}`, fix);
  if (!r.exists) return warn("runtime-dir", `XDG_RUNTIME_DIR=${r.path} does not exist: pod keeps runtime state in ${runroot}`, fix);
  if (!r.owned) return warn("runtime-dir", `XDG_RUNTIME_DIR=${r.path} is not yours: pod keeps runtime state in ${runroot}`, fix);
  return ok("runtime-dir", `XDG_RUNTIME_DIR=${r.path} is yours (mode ${r.mode})`);
}

export function checkDisk(f: HostFacts, root: string): Check {
  const fix = "free some space, or move the storage with --root DIR (or POD_ROOT=DIR)";
  if (!f.disk) return warn("disk", `cannot tell the free space for ${root}`, fix);
  if (f.disk.free < MIN_FREE) return warn("disk", `only ${humanSize(f.disk.free)} free for ${root} (less than 1 GB)`, fix);
  return ok("disk", `${humanSize(f.disk.free)} free for ${root}`);
}

/** Every check, in the order a person fixes them. */
export function checkHost(f: HostFacts, p: Probes, paths: { root: string; runroot: string }): Check[] {
  return [
    checkUserns(f),
    checkIdHelper(f.newuidmap, f.distro),
    checkIdHelper(f.newgidmap, f.distro),
    checkSubIds(f.subuid, "uid", f.user),
    checkSubIds(f.subgid, "gid", f.user),
    checkStorage(p.storage, paths.root),
    checkOverlay(p.overlay, f),
    checkFuse(f, "ok" in p.overlay && p.overlay.ok),
    checkNetwork(f),
    checkTun(f),
    checkCgroups(f),
    checkRuntimeDir(f, paths.runroot),
    checkDisk(f, paths.root),
  ];
}
