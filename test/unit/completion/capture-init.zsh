# Sourced by capture.zsh inside an interactive `zsh -f` on a pty: loads the
# completion system with pod's _pod, and replaces compadd with a function that
# prints every candidate it is given, between two \x1f marks.
PROMPT='' RPROMPT=''
fpath=("$POD_COMPLETION_DIR" $fpath)
autoload -U compinit
compinit -u -D
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false

__capture_mark() { print -r -- $'\x1f' }
compprefuncs=(__capture_mark)
comppostfuncs=(__capture_mark exit)

compadd() {
	# calls that only collect matches into arrays (-O, -A, -D) are the completion system's own
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
		builtin compadd "$@"
		return
	fi
	local -a __hits __dscr
	local __d i
	if (( $@[(I)-d] )); then
		__d=${@[$(( ${@[(i)-d]} + 1 ))]}
		if [[ $__d == \(* ]]; then eval "__dscr=$__d"; else __dscr=("${(@P)__d}"); fi
	fi
	builtin compadd -A __hits -D __dscr "$@"
	for (( i = 1; i <= $#__hits; i++ )); do
		print -r -- "$IPREFIX$__hits[i]"$'\t'"$__dscr[i]"
	done
}
print -r -- capture-ready
