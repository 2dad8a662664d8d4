
# The engine: walks the typed words like pod's parser (pkg/completion/walk.ts),
# then completes from the tables above, or asks `pod __complete` for images,
# containers and registries. ($path is zsh's PATH array: never a local here.)

# Asks the pod that was typed (not a fixed path) in cobra's protocol:
# value<TAB>description lines, then :DIRECTIVE (1 error, 4 no files).
__pod_dynamic() { # PREFIX: what compset took off the word (--flag=)
	local pod=${words[1]} line name directive=4
	local -a pod_items
	[[ $pod == "~/"* ]] && pod=$HOME/${pod#"~/"}
	for line in "${(@f)$("$pod" __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
		case $line in
		(:*) directive=${line#:} ;;
		(?*)
			name=${${line%%$'\t'*}#$1}
			if [[ $line == *$'\t'* ]]; then
				pod_items+=("${name//:/\\:}:${line#*$'\t'}")
			else
				pod_items+=("${name//:/\\:}")
			fi
			;;
		esac
	done
	(( directive & 1 )) && return 1
	if (( $#pod_items )); then
		_describe -t values value pod_items
	elif (( ! (directive & 4) )); then
		_files
	else
		return 1
	fi
}

_pod() {
	local cur=${words[CURRENT]} w cmdpath='' want='' prefix='' kind
	local -a pod_subs pod_flags pod_vflags pod_vals
	integer i npos=0 over=0 inter posn
	__pod_spec ''
	for (( i = 2; i < CURRENT; i++ )); do
		w=${words[i]}
		if (( over )); then
			(( npos++ ))
			continue
		fi
		if [[ $w == -- ]]; then
			over=1
			continue
		fi
		if [[ $w == -?* ]]; then
			if [[ $w == *=* ]] || (( ! ${pod_vflags[(Ie)$w]} )); then continue; fi
			if (( i + 1 == CURRENT )); then
				want=$w
				break
			fi
			(( i++ ))
			continue
		fi
		if (( npos == 0 && ${${(@)pod_subs%%:*}[(Ie)$w]} )); then
			cmdpath=${cmdpath:+$cmdpath }$w
			__pod_spec "$cmdpath"
			continue
		fi
		(( npos++ ))
		(( inter )) || over=1
	done
	if [[ -z $want ]] && (( ! over )) && [[ $cur == --*=* ]] && (( ${pod_vflags[(Ie)${cur%%=*}]} )); then
		want=${cur%%=*}
		prefix=$want=
		compset -P '*='
	fi
	if [[ -n $want ]]; then
		__pod_kind "$cmdpath|$want"
	elif (( ! over )) && [[ $cur == -* ]]; then
		_describe -t options option pod_flags
		return
	elif (( npos == 0 && $#pod_subs )); then
		_describe -t commands command pod_subs
		return
	elif (( posn == 0 )); then
		return 1
	else
		(( npos >= posn )) && npos=$(( posn - 1 ))
		__pod_kind "$cmdpath|#$npos"
	fi
	case $kind in
	(@files) _files ;;
	(@dirs) _files -/ ;;
	(@none) return 1 ;;
	(@dynamic) __pod_dynamic "$prefix" ;;
	(*)
		pod_vals=(${=kind})
		compadd -a pod_vals
		;;
	esac
}

if [[ $funcstack[1] == _pod ]]; then
	_pod "$@"
else
	compdef _pod pod
fi
