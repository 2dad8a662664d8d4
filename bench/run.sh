#!/usr/bin/env bash
# Runs the benchmarks (all of them, or those named: `bash bench/run.sh pull`)
# as an unprivileged user. Never part of test/run.sh: the numbers are printed
# for people to read, not asserted.
#
# As root it runs them as the test user (podtest, or $POD_BENCH_USER) from a
# private copy under /tmp, as test/run.sh does for the e2e suite.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

ALL=(startup pull run-container lifecycle network usernet images-out build)
benches=("$@")
[ "${#benches[@]}" -gt 0 ] || benches=("${ALL[@]}")
for b in "${benches[@]}"; do
  [ -f "bench/$b.ts" ] || { echo "no benchmark bench/$b.ts (have: ${ALL[*]})" >&2; exit 2; }
done

bun_bin="$repo/node_modules/bun/bin/bun.exe"
# the real Alpine minirootfs (run-container needs it)
fixtures=${POD_TEST_FIXTURES:-$(cd "$repo/.." && pwd)/shared/fixtures}
alpine="alpine-minirootfs-3.20.3-x86_64.tar.gz"
[ -x "$bun_bin" ] || { echo "node_modules is missing: run npm ci" >&2; exit 2; }
for cmd in docker-registry skopeo tar gzip gunzip sha256sum setpriv; do
  command -v "$cmd" >/dev/null || { echo "$cmd is missing (apt-get install docker-registry skopeo; see test/run.sh)" >&2; exit 2; }
done

echo "==> building dist/pod" >&2
"$bun_bin" run build >&2

if [ "$(id -u)" -eq 0 ]; then
  user=${POD_BENCH_USER:-podtest}
  id "$user" >/dev/null 2>&1 || { echo "user $user does not exist: run bash test/run.sh once as root to create it" >&2; exit 2; }
  work=$(mktemp -d /tmp/pod-bench.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/repo/dist" "$work/repo/test" "$work/bin" "$work/home" "$work/tmp"
  cp dist/pod "$work/repo/dist/pod"
  sync # freshly written pages of the binary would count as dirty memory in the monitors it starts
  cp -r bench "$work/repo/bench"
  cp -r test/fixtures "$work/repo/test/fixtures"
  cp package.json tsconfig.json "$work/repo/"
  cp "$bun_bin" "$work/bin/bun"
  if [ -f "$fixtures/$alpine" ] && ! runuser -u "$user" -- test -r "$fixtures/$alpine"; then
    mkdir -p "$work/fixtures"
    cp "$fixtures/$alpine" "$work/fixtures/"
    fixtures="$work/fixtures"
  fi
  chown -R "$user:" "$work"
  chmod 700 "$work"
  for b in "${benches[@]}"; do
    echo "==> bench/$b.ts as $user" >&2
    (
      cd "$work/repo"
      runuser -u "$user" -- env -i \
        HOME="$work/home" USER="$user" LOGNAME="$user" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TMPDIR="$work/tmp" \
        POD_BIN="$work/repo/dist/pod" \
        POD_BENCH_RUNS="${POD_BENCH_RUNS:-}" POD_BENCH_MB="${POD_BENCH_MB:-}" \
        POD_TEST_FIXTURES="$fixtures" \
        "$work/bin/bun" "bench/$b.ts"
    )
  done
else
  for b in "${benches[@]}"; do
    echo "==> bench/$b.ts" >&2
    POD_TEST_FIXTURES="$fixtures" "$bun_bin" "bench/$b.ts"
  done
fi
