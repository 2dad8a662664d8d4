
# The engine: walks the typed words like pod's parser (pkg/completion/walk.ts),
# then completes from the tables above, or asks `pod __complete` for images,
# containers and registries.

# bash splits words at COMP_WORDBREAKS ('=' and ':' among them): glue the
# pieces back so --pull=never and alpine:3.20 are one word, as pod sees them.
__pod_words() {
	local i w glue=0
	words=()
	cword=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if ((i > 0)) && { [[ $w =~ ^[=:]+$ ]] || ((glue)); }; then
			words[${#words[@]} - 1]+=$w
		else
			words+=("$w")
		fi
		glue=0
		[[ $w =~ ^[=:]+$ ]] && glue=1
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	return 0
}

__pod_in() { # WORD LIST: is WORD one of the words of LIST?
	local x
	for x in $2; do [[ $x == "$1" ]] && return 0; done
	return 1
}

__pod_reply() { # KIND WORD: fills COMPREPLY from a word list, files or dirs
	case $1 in
	@files)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$2")
		;;
	@dirs)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$2")
		;;
	@none) COMPREPLY=() ;;
	*) mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2") ;;
	esac
}

# Asks the pod that was typed (not a fixed path) in cobra's protocol:
# value<TAB>description lines, then :DIRECTIVE (1 error, 2 no space, 4 no files).
__pod_dynamic() { # WORD
	local pod=${words[0]} line value directive=4
	# a typed ~/bin/pod arrives unexpanded
	# shellcheck disable=SC2088
	[[ $pod == "~/"* ]] && pod=$HOME/${pod#"~/"}
	COMPREPLY=()
	while IFS= read -r line; do
		case $line in
		:*) directive=${line#:} ;;
		*)
			value=${line%%$'\t'*}
			[[ $value == "$1"* ]] && COMPREPLY+=("$value")
			;;
		esac
	done < <("$pod" __complete -- "${words[@]:1:cword}" 2>/dev/null)
	((directive & 1)) && COMPREPLY=()
	((directive & 2)) && compopt -o nospace 2>/dev/null
	if ((${#COMPREPLY[@]} == 0 && (directive & 5) == 0)); then __pod_reply @files "$1"; fi
	return 0
}

# bash replaces only the text after the word's last wordbreak character.
__pod_trim() {
	local b='' keep
	[[ $COMP_WORDBREAKS == *=* ]] && b+='='
	[[ $COMP_WORDBREAKS == *:* ]] && b+=':'
	[[ -n $b && $cur == *[$b]* ]] || return 0
	keep=${cur%"${cur##*["$b"]}"}
	COMPREPLY=("${COMPREPLY[@]#"$keep"}")
}

_pod() {
	local words cword cur w cmdpath='' want='' prefix='' kind subs flags vflags
	local -i i npos=0 over=0 inter posn
	__pod_words
	cur=${words[cword]}
	__pod_spec ''
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if ((over)); then
			npos+=1
			continue
		fi
		if [[ $w == -- ]]; then
			over=1
			continue
		fi
		if [[ $w == -?* ]]; then
			if [[ $w == *=* ]] || ! __pod_in "$w" "$vflags"; then continue; fi
			if ((i + 1 == cword)); then
				want=$w
				break
			fi
			i+=1
			continue
		fi
		if ((npos == 0)) && __pod_in "$w" "$subs"; then
			cmdpath=${cmdpath:+$cmdpath }$w
			__pod_spec "$cmdpath"
			continue
		fi
		npos+=1
		((inter)) || over=1
	done
	if [[ -z $want ]] && ((!over)) && [[ $cur == --*=* ]] && __pod_in "${cur%%=*}" "$vflags"; then
		want=${cur%%=*}
		prefix=$want=
	fi
	if [[ -n $want ]]; then
		__pod_kind "$cmdpath|$want"
	elif ((!over)) && [[ $cur == -* ]]; then
		kind=$flags
	elif ((npos == 0)) && [[ -n $subs ]]; then
		kind=$subs
	elif ((posn == 0)); then
		kind=@none
	else
		((npos >= posn)) && npos=$((posn - 1))
		__pod_kind "$cmdpath|#$npos"
	fi
	if [[ $kind == @dynamic ]]; then
		__pod_dynamic "$cur"
	else
		__pod_reply "$kind" "${cur#"$prefix"}"
		[[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
	fi
	__pod_trim
	return 0
}

complete -F _pod pod
