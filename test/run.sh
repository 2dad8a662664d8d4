#!/usr/bin/env bash
# The one test command: unit tests, then the e2e suite against the compiled
# binary as an unprivileged user.
#
#   bash test/run.sh
#
# As root (CI): installs what is missing, creates the test user `podtest`
# with subordinate id ranges, builds dist/pod, runs the unit tests as root and
# the e2e tests as podtest from a private copy under /tmp; then the
# *.nosubid.test.ts files as a second user with no subordinate ids (podtest2);
# then the VM suite (test/vm/run.sh: one qemu VM with a pure, delegated cgroup
# v2 hierarchy, through ../shared/tools/vm-run, whose qemu and kernel image are
# set up in the install phase).
# As a normal user: installs nothing; says what is missing; runs them as you
# (the VM suite is skipped, saying why, where vm-run cannot work; in CI never).
#
# Ends with one line "N passed, N failed[, N skipped]" and exits non-zero if
# anything failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

TEST_USER=podtest
SUBID_RANGE=100000:65536
# a user with no /etc/subuid or /etc/subgid lines, for pod's single-id fallback
NOSUBID_USER=podtest2
# package → a file it installs, to tell whether it is there
PKGS=(
  "uidmap:/usr/bin/newuidmap"
  "docker-registry:/usr/bin/docker-registry"
  "skopeo:/usr/bin/skopeo"
  "busybox-static:/bin/busybox"
  "passt:/usr/bin/pasta"
  "slirp4netns:/usr/bin/slirp4netns"
  "fuse-overlayfs:/usr/bin/fuse-overlayfs"
  "zstd:/usr/bin/zstd"
  "apache2-utils:/usr/bin/htpasswd"
  "openssl:/usr/bin/openssl"
  "tmux:/usr/bin/tmux"
  "attr:/usr/bin/getfattr"
  "ca-certificates:/etc/ssl/certs/ca-certificates.crt"
  "nftables:/usr/sbin/nft"
  "iproute2:/usr/sbin/ip"
  "zsh:/usr/bin/zsh"
  "fish:/usr/bin/fish"
  "keyutils:/usr/bin/keyctl"
  "gcc:/usr/bin/gcc"
  "libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a"
)

say() { printf '==> %s\n' "$*" >&2; }

missing_packages() {
  local entry pkg file
  for entry in "${PKGS[@]}"; do
    pkg=${entry%%:*}
    file=${entry#*:}
    if command -v dpkg-query >/dev/null 2>&1; then
      dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || { echo "$pkg"; continue; }
    fi
    [ -e "$file" ] || echo "$pkg"
  done | sort -u
}

has_subids() { # user file
  grep -qE "^($1|$(id -u "$1")):[0-9]+:[0-9]+$" "$2" 2>/dev/null
}

bun_bin="$repo/node_modules/bun/bin/bun.exe"
vm_run_bin=${POD_VM_RUN:-$(cd "$repo/.." && pwd)/shared/tools/vm-run}

ensure_node_modules() {
  if [ ! -x "$bun_bin" ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "node_modules is missing or older than package-lock.json: npm ci"
    npm ci --no-audit --no-fund
  fi
}

# ---- prerequisites -----------------------------------------------------------

if [ "$(id -u)" -eq 0 ]; then
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    say "creating the test user $TEST_USER"
    useradd -m -s /bin/bash "$TEST_USER"
  fi
  for f in /etc/subuid /etc/subgid; do
    if ! has_subids "$TEST_USER" "$f"; then
      say "adding $TEST_USER:$SUBID_RANGE to $f"
      echo "$TEST_USER:$SUBID_RANGE" >>"$f"
    fi
  done
  if ! id "$NOSUBID_USER" >/dev/null 2>&1; then
    say "creating the test user $NOSUBID_USER (no subordinate ids)"
    # useradd would otherwise allocate ranges by itself (login.defs SUB_UID_COUNT)
    useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$NOSUBID_USER"
  fi
  for f in /etc/subuid /etc/subgid; do
    if grep -qE "^($NOSUBID_USER|$(id -u "$NOSUBID_USER")):" "$f" 2>/dev/null; then
      say "removing $NOSUBID_USER's ranges from $f (it must have none)"
      sed -i -E "/^($NOSUBID_USER|$(id -u "$NOSUBID_USER")):/d" "$f"
    fi
  done
  if [ -e /dev/net/tun ]; then
    if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
      say "chmod 666 /dev/net/tun (pasta and slirp4netns need it; it is 0600 on this machine)"
      chmod 666 /dev/net/tun
    fi
  else
    say "warning: /dev/net/tun does not exist: network tests will fail"
  fi
  # A small disk that fills up, for what pod does on a full disk (480-data-loss): a tmpfs the test user owns.
  small_disk=/tmp/pod-e2e-small-disk
  mkdir -p "$small_disk"
  if ! mountpoint -q "$small_disk"; then
    mount -t tmpfs -o "size=64m,mode=0700,uid=$(id -u "$TEST_USER"),gid=$(id -g "$TEST_USER")" pod-e2e-small-disk "$small_disk"
  fi
  # The VM suite: qemu, and vm-run's kernel image (downloaded once, cached in root's ~/.cache/vm-run).
  if [ -x "$vm_run_bin" ]; then
    if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
      say "installing qemu-system-x86 (the VM suite boots a VM with a pure cgroup v2 hierarchy)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q --no-install-recommends qemu-system-x86 || { apt-get update -q && apt-get install -y -q --no-install-recommends qemu-system-x86; }
    fi
    say "vm-run --build-only (the VM suite's kernel image)"
    "$vm_run_bin" --build-only >/dev/null || say "warning: vm-run --build-only failed: the VM suite will fail and say why"
  else
    say "warning: $vm_run_bin is missing: the VM suite will fail (set POD_VM_RUN)"
  fi
else
  mapfile -t missing < <(missing_packages)
  problems=0
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    echo "  install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    problems=1
  fi
  me=$(id -un)
  for f in /etc/subuid /etc/subgid; do
    if ! has_subids "$me" "$f"; then
      echo "$me has no range in $f" >&2
      echo "  add one with: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $me" >&2
      problems=1
    fi
  done
  if [ ! -w /dev/net/tun ]; then
    echo "/dev/net/tun is not writable by $me (network tests need it)" >&2
    echo "  fix with: sudo chmod 666 /dev/net/tun" >&2
  fi
  if [ "$problems" -ne 0 ]; then
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

ensure_node_modules
say "building dist/pod"
"$bun_bin" run build

# ---- running the suites ---------------------------------------------------------

logs=$(mktemp -d "${TMPDIR:-/tmp}/pod-test-logs.XXXXXX")
work=""
work2=""
work3=""
cleanup() {
  local w
  for w in "$work" "$work2" "$work3"; do
    if [ -n "$w" ] && [ -d "$w" ]; then
      rm -rf "$w" 2>/dev/null || echo "warning: could not remove all of $w (files owned by subordinate ids? try: dist/pod unshare rm -rf $w)" >&2
    fi
  done
  rm -rf "$logs"
  if [ -n "${small_disk:-}" ] && mountpoint -q "$small_disk"; then umount "$small_disk" && rmdir "$small_disk"; fi
}
trap cleanup EXIT

unit_rc=0
say "unit tests: bun test test/unit"
if find test/unit -name '*.test.ts' 2>/dev/null | grep -q .; then
  set +e
  "$bun_bin" test test/unit 2>&1 | tee "$logs/unit.log"
  unit_rc=${PIPESTATUS[0]}
  set -e
else
  say "no unit tests under test/unit"
  : >"$logs/unit.log"
fi

# The typecheck counts as one test: it passes or fails like one.
say "typecheck: tsc --noEmit"
set +e
node_modules/.bin/tsc --noEmit -p . 2>&1 | tee "$logs/typecheck.out"
tsc_rc=${PIPESTATUS[0]}
set -e
if [ "$tsc_rc" -eq 0 ]; then echo " 1 pass" >"$logs/typecheck.log"; else echo " 1 fail" >"$logs/typecheck.log"; unit_rc=1; fi

e2e_rc=0
not_run=""
fixtures=${POD_TEST_FIXTURES:-$(cd "$repo/.." && pwd)/shared/fixtures}
alpine="alpine-minirootfs-3.20.3-x86_64.tar.gz"
# In name order; the 000-* smoke set runs first, and the rest only if it passes.
mapfile -t smoke < <(find test/e2e -maxdepth 1 -name '000-*.test.ts' | sort)
# *.nosubid.test.ts: as root, run in a pass of their own as $NOSUBID_USER
mapfile -t rest < <(find test/e2e -maxdepth 1 -name '*.test.ts' ! -name '000-*' ! -name '*.nosubid.test.ts' ! -name '*.root.test.ts' | sort)
mapfile -t nosubid < <(find test/e2e -maxdepth 1 -name '*.nosubid.test.ts' | sort)
# *.root.test.ts: as root, run in a pass of their own as root (pod as root: the bridge, nftables)
mapfile -t rootfiles < <(find test/e2e -maxdepth 1 -name '*.root.test.ts' | sort)
if [ "$(id -u)" -ne 0 ]; then
  rest+=("${nosubid[@]}" "${rootfiles[@]}") # as the caller they skip, saying why
  nosubid=()
  rootfiles=()
fi

# One bun test run over the given e2e files from dir: as the test user when
# root (a clean environment, nothing of root's), else as the caller.
# E2E_USER/E2E_WORK/E2E_EXTRA pick another user, its work dir and extra env.
e2e_in() { # dir files...
  local dir=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    local user=${E2E_USER:-$TEST_USER} w=${E2E_WORK:-$work}
    (
      cd "$dir"
      # shellcheck disable=SC2086 # E2E_EXTRA is a list of NAME=VALUE words
      runuser -u "$user" -- env -i \
        HOME="$w/home" \
        USER="$user" LOGNAME="$user" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 \
        TMPDIR="$w/tmp" \
        POD_TEST_TMP="$w/tmp" \
        POD_TEST_FIXTURES="$fixtures" \
        POD_BIN="$w/repo/dist/pod" \
        POD_TEST_SMALL_DISK="${small_disk:-}" \
        CI="${CI:-}" \
        ${E2E_EXTRA:-} \
        "$w/bin/bun" test --timeout 120000 --preload ./test/e2e/setup.ts "${@/#/./}"
    )
  else
    (cd "$dir" && POD_TEST_TMP="$work" POD_TEST_FIXTURES="$fixtures" "$bun_bin" test --timeout 120000 --preload ./test/e2e/setup.ts "${@/#/./}")
  fi
}

run_e2e() { # dir
  local rc
  say "e2e smoke set: ${smoke[*]}"
  set +e
  e2e_in "$1" "${smoke[@]}" 2>&1 | tee "$logs/e2e-smoke.log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    e2e_rc=$rc
    not_run=" (the smoke set failed, so ${#rest[@]} e2e files did not run)"
    say "the e2e smoke set failed: not running the other ${#rest[@]} e2e files"
    return
  fi
  say "e2e: ${rest[*]}"
  set +e
  e2e_in "$1" "${rest[@]}" 2>&1 | tee "$logs/e2e.log"
  e2e_rc=${PIPESTATUS[0]}
  set -e
}

# A private copy of the binary, the tests and bun that USER owns, under /tmp: prints its path.
private_copy() { # name user
  local w
  w=$(mktemp -d "/tmp/$1.XXXXXX")
  mkdir -p "$w/repo/dist" "$w/bin" "$w/home" "$w/tmp" "$w/fixtures"
  cp dist/pod "$w/repo/dist/pod"
  cp -r test "$w/repo/test"
  cp package.json bunfig.toml tsconfig.json "$w/repo/"
  cp "$bun_bin" "$w/bin/bun"
  chown -R "$2:" "$w"
  chmod 700 "$w"
  echo "$w"
}

# The *.nosubid.test.ts files as $NOSUBID_USER, from a private copy of its own.
run_e2e_nosubid() {
  local rc
  [ "${#nosubid[@]}" -gt 0 ] || return 0
  work2=$(private_copy pod-e2e-nosubid "$NOSUBID_USER")
  say "e2e as $NOSUBID_USER (no subordinate ids) in $work2: ${nosubid[*]}"
  set +e
  E2E_USER=$NOSUBID_USER E2E_WORK=$work2 E2E_EXTRA="POD_TEST_NOSUBID_USER=$NOSUBID_USER" \
    e2e_in "$work2/repo" "${nosubid[@]}" 2>&1 | tee "$logs/e2e-nosubid.log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || e2e_rc=$rc
}

# The *.root.test.ts files as root, from a private copy of their own (pod as root: the bridge, nftables).
run_e2e_root() {
  local rc
  [ "${#rootfiles[@]}" -gt 0 ] || return 0
  work3=$(private_copy pod-e2e-root root)
  say "e2e as root in $work3: ${rootfiles[*]}"
  set +e
  E2E_USER=root E2E_WORK=$work3 E2E_EXTRA="POD_TEST_UNPRIVILEGED_USER=$TEST_USER" e2e_in "$work3/repo" "${rootfiles[@]}" 2>&1 | tee "$logs/e2e-root.log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || e2e_rc=$rc
}

if [ "$(id -u)" -eq 0 ]; then
  # A private copy the test user owns: the repo may live under a root-only path.
  work=$(private_copy pod-e2e "$TEST_USER")
  if [ -f "$fixtures/$alpine" ] && ! runuser -u "$TEST_USER" -- test -r "$fixtures/$alpine"; then
    say "copying $alpine where $TEST_USER can read it"
    cp "$fixtures/$alpine" "$work/fixtures/"
    fixtures="$work/fixtures"
  fi
  chown -R "$TEST_USER:" "$work"
  chmod 700 "$work"
  say "e2e tests run as $TEST_USER in $work"
  run_e2e "$work/repo"
  if [ -z "$not_run" ]; then run_e2e_nosubid; run_e2e_root; fi
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/pod-e2e.XXXXXX")
  say "e2e tests run as $(id -un), temp files in $work"
  run_e2e "$repo"
fi

# One VM for all of test/vm: ~5 s to boot and the suite about a minute under TCG (no KVM on these hosts).
# test/vm/run.sh exits 77 when it cannot run here (never in CI, where that fails).
say "VM suite: bash test/vm/run.sh"
set +e
POD_VM_RUN="$vm_run_bin" bash test/vm/run.sh 2>&1 | tee "$logs/vm.log"
vm_rc=${PIPESTATUS[0]}
set -e
vm_skipped=0
if [ "$vm_rc" -eq 77 ]; then vm_rc=0; vm_skipped=1; fi

# ---- the summary -------------------------------------------------------------------

count() { # word log...: sums bun's " N word" summary lines
  local word=$1
  shift
  sed -E 's/\x1b\[[0-9;]*m//g' "$@" | sed -nE "s/^ *([0-9]+) $word\$/\1/p" | awk '{s += $1} END {print s + 0}'
}
touch "$logs/e2e-smoke.log" "$logs/e2e.log" "$logs/e2e-nosubid.log" "$logs/e2e-root.log" "$logs/vm.log"
passed=$(count pass "$logs"/*.log)
failed=$(count fail "$logs"/*.log)
skipped=$(($(count skip "$logs"/*.log) + vm_skipped))

# a bun run that failed without reporting a failed test (a crash, a file that
# does not load) still counts as one failure
if [ "$failed" -eq 0 ] && { [ "$unit_rc" -ne 0 ] || [ "$e2e_rc" -ne 0 ] || [ "$vm_rc" -ne 0 ]; }; then failed=1; fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
[ "$unit_rc" -ne 0 ] && say "bun test test/unit exited $unit_rc"
[ "$e2e_rc" -ne 0 ] && say "bun test test/e2e exited $e2e_rc$not_run"
[ "$vm_rc" -ne 0 ] && say "the VM suite (test/vm/run.sh) exited $vm_rc"
echo "$summary"
if [ "$failed" -ne 0 ] || [ "$unit_rc" -ne 0 ] || [ "$e2e_rc" -ne 0 ] || [ "$vm_rc" -ne 0 ]; then
  exit 1
fi
