#!/usr/bin/env bash
# Installs pod for the current user: builds dist/pod if needed, copies it to
# ${PREFIX:-$HOME/.local}/bin, and checks what rootless containers need on
# this host, printing the exact command that fixes each missing piece.
# Idempotent; never needs root (the fixes it prints may).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=${PREFIX:-$HOME/.local}
bindir=$prefix/bin
user=$(id -un)
problems=0

say() { printf '%s\n' "$*"; }
ok() { printf '  ok    %s\n' "$*"; }
bad() {
  printf '  fix   %s\n        %s\n' "$1" "$2"
  problems=$((problems + 1))
}

build() {
  cd "$here"
  if [ ! -x node_modules/.bin/bun ]; then
    command -v npm >/dev/null || { say "npm is needed to build pod: sudo apt-get install nodejs npm"; exit 1; }
    npm ci --no-audit --no-fund >/dev/null
  fi
  node_modules/.bin/bun run build >/dev/null
}

if [ ! -x "$here/dist/pod" ] || [ -n "$(find "$here/cmd" "$here/pkg" -newer "$here/dist/pod" -print -quit 2>/dev/null)" ]; then
  say "building dist/pod ..."
  build
fi

mkdir -p "$bindir"
install -m 0755 "$here/dist/pod" "$bindir/pod.new"
mv -f "$bindir/pod.new" "$bindir/pod"
say "installed $bindir/pod ($("$bindir/pod" --version))"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) say "note: $bindir is not in PATH; add: export PATH=\"$bindir:\$PATH\"" ;;
esac

say ""
say "checking rootless prerequisites:"
for helper in newuidmap newgidmap; do
  if p=$(command -v $helper); then
    if [ -u "$p" ] || getcap "$p" 2>/dev/null | grep -q cap_set; then ok "$helper ($p)"; else bad "$p is neither setuid nor has file capabilities" "sudo chmod u+s $p"; fi
  else
    bad "$helper is missing" "sudo apt-get install uidmap"
  fi
done
for f in subuid subgid; do
  if grep -qE "^($user|$(id -u)):[0-9]+:[0-9]+" /etc/$f 2>/dev/null; then
    ok "/etc/$f has a range for $user"
  else
    bad "no range for $user in /etc/$f" "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $user"
  fi
done
if command -v pasta >/dev/null; then ok "pasta ($(command -v pasta))"
elif command -v slirp4netns >/dev/null; then ok "slirp4netns ($(command -v slirp4netns))"
else bad "neither pasta nor slirp4netns is installed (rootless networking)" "sudo apt-get install passt"; fi
if [ -e /dev/net/tun ] && [ -r /dev/net/tun ] && [ -w /dev/net/tun ]; then ok "/dev/net/tun is usable"
else bad "/dev/net/tun is not readable and writable by you" "sudo chmod 0666 /dev/net/tun"; fi

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
mkdir -p "$probe"/{l,u,w,m}
if command -v unshare >/dev/null && unshare --user --map-root-user --mount sh -c \
  "mount -t overlay overlay -o lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w,userxattr $probe/m" 2>/dev/null; then
  ok "kernel overlay works in a user namespace"
elif command -v fuse-overlayfs >/dev/null; then
  ok "fuse-overlayfs (kernel overlay in user namespaces unavailable)"
else
  bad "kernel overlay is not usable in a user namespace and fuse-overlayfs is missing" "sudo apt-get install fuse-overlayfs"
fi

# Shell completion, where each shell looks for it; rc files are never edited.
install_completion() { # shell file
  local tmp
  tmp=$(mktemp)
  "$bindir/pod" completion "$1" >"$tmp"
  install -D -m 0644 "$tmp" "$2"
  rm -f "$tmp"
  say "installed $1 completion: $2"
}
say ""
data=${XDG_DATA_HOME:-$HOME/.local/share}
# bash-completion 2 loads completions/<command> from this directory on first use
install_completion bash "${BASH_COMPLETION_USER_DIR:-$data/bash-completion}/completions/pod"
if [ ! -f /usr/share/bash-completion/bash_completion ] && [ ! -f /etc/bash_completion ]; then
  say "note: bash loads it through bash-completion, which is not installed: sudo apt-get install bash-completion"
fi
# zsh searches no per-user directory by default; /usr/local/share/zsh/site-functions is in its default fpath
zshdir=$data/zsh/site-functions
case "$prefix" in /usr/local) zshdir=/usr/local/share/zsh/site-functions ;; esac
install_completion zsh "$zshdir/_pod"
if command -v zsh >/dev/null && [ "$zshdir" != /usr/local/share/zsh/site-functions ] && ! grep -qsF "$zshdir" "${ZDOTDIR:-$HOME}/.zshrc"; then
  say "note: for zsh, add this line to ~/.zshrc before compinit: fpath=(\"$zshdir\" \$fpath)"
fi
install_completion fish "${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions/pod.fish"

say ""
if [ "$problems" -eq 0 ]; then say "all set: try \`pod pull alpine\`"; else say "$problems thing(s) to fix, listed above"; fi
