
# The engine: walks the typed words like pod's parser (pkg/completion/walk.ts),
# then completes from the tables above, or asks `pod __complete` for images,
# containers and registries.

# Asks the pod that was typed (not a fixed path) in cobra's protocol:
# value<TAB>description lines, then :DIRECTIVE (1 error, 4 no files).
function __pod_dynamic --argument-names pod cur
    set -l directive 4
    set -l found 0
    if string match -q -- '~/*' $pod
        set pod $HOME/(string sub -s 3 -- $pod)
    end
    set -l words (commandline -opc)
    for line in ($pod __complete -- $words[2..] "$cur" 2>/dev/null)
        if string match -q -- ':*' $line
            set directive (string sub -s 2 -- $line)
        else if test -n "$line"
            set found 1
            printf '%s\n' $line
        end
    end
    if test $found = 0; and test (math "bitand($directive, 5)") = 0
        __fish_complete_path $cur
    end
end

function __pod_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l cmdpath ''
    set -l npos 0
    set -l over 0
    set -l want ''
    set -l prefix ''
    set -l vflags (__pod_vflags '')
    set -l subs (__pod_subs '' | string replace -r '\t.*' '')
    set -l i 2
    while test $i -le (count $words)
        set -l w $words[$i]
        set i (math $i + 1)
        if test $over = 1
            set npos (math $npos + 1)
            continue
        end
        if test "$w" = --
            set over 1
            continue
        end
        if string match -qr -- '^-.' $w
            if not string match -q -- '*=*' $w; and contains -- $w $vflags
                if test $i -gt (count $words)
                    set want $w
                    break
                end
                set i (math $i + 1)
            end
            continue
        end
        if test $npos = 0; and contains -- $w $subs
            set cmdpath (string trim -- "$cmdpath $w")
            set vflags (__pod_vflags $cmdpath)
            set subs (__pod_subs $cmdpath | string replace -r '\t.*' '')
            continue
        end
        set npos (math $npos + 1)
        __pod_inter $cmdpath; or set over 1
    end
    if test -z "$want"; and test $over = 0; and string match -q -- '--*=*' $cur
        set -l name (string split -m 1 = -- $cur)[1]
        if contains -- $name $vflags
            set want $name
            set prefix $name=
        end
    end
    set -l kind
    if test -n "$want"
        set kind (__pod_kind "$cmdpath|$want")
    else if test $over = 0; and string match -q -- '-*' $cur
        __pod_flags $cmdpath
        return
    else if test $npos = 0; and test (count $subs) -gt 0
        __pod_subs $cmdpath
        return
    else
        set -l posn (__pod_posn $cmdpath)
        if test $posn = 0
            return
        end
        if test $npos -ge $posn
            set npos (math $posn - 1)
        end
        set kind (__pod_kind "$cmdpath|#$npos")
    end
    set -l word (string sub -s (math (string length -- $prefix) + 1) -- $cur)
    switch "$kind"
        case @files
            __fish_complete_path $word | string replace -r -- '^' "$prefix"
        case @dirs
            __fish_complete_directories $word | string replace -r -- '^' "$prefix"
        case @none
            return
        case @dynamic
            __pod_dynamic $words[1] "$cur"
        case '*'
            printf '%s\n' $prefix$kind
    end
end

complete -c pod -f -a '(__pod_complete)'
