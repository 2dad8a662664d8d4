# zsh -f capture.zsh LINE: types LINE and a TAB into an interactive zsh on a
# pty (zsh/zpty) and prints what the completion system offered, one
# "value<TAB>display" line per candidate. POD_COMPLETION_DIR holds _pod.
zmodload zsh/zpty || { print -u2 'zsh/zpty is not available'; exit 2 }
zpty z zsh -f -i
zpty -w z "source ${(q)${0:A:h}}/capture-init.zsh"
local line
integer marks=0 tries=0
until [[ $line == capture-ready* ]]; do
	zpty -r z line || exit 3
	(( ++tries > 100 )) && { print -u2 'zsh did not load capture-init.zsh'; exit 4 }
done
zpty -w -n z "$1"$'\t'
while zpty -r z line; do
	if [[ $line == *$'\x1f'* ]]; then
		(( ++marks == 2 )) && break
		continue
	fi
	line=${${line//$'\r'/}%$'\n'}
	(( marks == 1 )) && [[ -n $line ]] && print -r -- "$line"
done
zpty -d z
