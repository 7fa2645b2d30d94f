#!/usr/bin/env bash
# Run a command in a real terminal (a detached tmux pane of a fixed size) and
# capture what the terminal shows: the live frame at chosen moments and the
# final screen. This is how the Ink dashboard is checked in a real terminal.
#
#   scripts/tmux-capture.sh [options] -- COMMAND [ARGS...]
#
#   -o FILE     final screen goes here (default: tmux-capture.txt)
#   -a SECONDS  also capture the live screen this long after the start, to
#               FILE with .live before the extension (repeatable: .live1, .live2, ...)
#   -q SECONDS  press q this long after the start (graceful stop)
#   -c SECONDS  press Ctrl-C this long after the start
#   -W COLS     pane width  (default 80)
#   -H ROWS     pane height (default 24)
#   -T SECONDS  give up after this long (default 600)
#   -e          keep ANSI colour codes in the captures (capture-pane -e)
#
# Exit status: the command's. Needs tmux (apt-get install -y tmux).
# Example:
#   scripts/tmux-capture.sh -a 20 -q 30 -o runs/tiny.frame.txt -- \
#     node bin/bert.js pretrain --config configs/pretrain/tiny.yaml --force
set -euo pipefail

out=tmux-capture.txt
width=80
height=24
timeout=600
escapes=()
live_at=()
q_at=''
c_at=''
while getopts 'o:a:q:c:W:H:T:e' opt; do
  case "$opt" in
    o) out=$OPTARG ;;
    a) live_at+=("$OPTARG") ;;
    q) q_at=$OPTARG ;;
    c) c_at=$OPTARG ;;
    W) width=$OPTARG ;;
    H) height=$OPTARG ;;
    T) timeout=$OPTARG ;;
    e) escapes=(-e) ;;
    *) sed -n '2,21p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then
  sed -n '2,21p' "$0" >&2
  exit 2
fi
if ! command -v tmux >/dev/null; then
  echo "tmux-capture: tmux is not installed (apt-get install -y tmux)" >&2
  exit 2
fi

session="bert-capture-$$"
status_file=$(mktemp)
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -f "$status_file"' EXIT

# The command runs in the pane's shell in this directory; its exit status is
# written to a file and the pane stays open so the last screen can be read.
printf -v cmd '%q ' "$@"
tmux new-session -d -s "$session" -x "$width" -y "$height" -c "$PWD" \
  "env -u CI TERM=xterm-256color $cmd; echo \$? > $(printf %q "$status_file"); sleep 86400"
tmux set-option -t "$session" status off >/dev/null
# Window size follows -x/-y, not an attached client.
tmux set-window-option -t "$session" window-size manual >/dev/null 2>&1 || true
tmux resize-window -t "$session" -x "$width" -y "$height" >/dev/null 2>&1 || true

capture() {
  mkdir -p "$(dirname "$1")"
  tmux capture-pane -p "${escapes[@]}" -t "$session" > "$1"
}

live_name() {
  local n=$1 base=${out%.*} ext=${out##*.}
  [[ $base == "$out" ]] && ext=txt
  if [[ ${#live_at[@]} -gt 1 ]]; then echo "$base.live$n.$ext"; else echo "$base.live.$ext"; fi
}

# Times in integer milliseconds (bash has no floats; options may be "2.5").
to_ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(now_ms)
done_live=()
q_sent=''
c_sent=''
while [[ ! -s $status_file ]]; do
  t=$(($(now_ms) - start))
  for i in "${!live_at[@]}"; do
    if [[ -z ${done_live[$i]:-} ]] && ((t >= $(to_ms "${live_at[$i]}"))); then
      capture "$(live_name $((i + 1)))"
      done_live[$i]=1
      echo "tmux-capture: live screen at $((t / 1000))s -> $(live_name $((i + 1)))" >&2
    fi
  done
  if [[ -n $q_at && -z $q_sent ]] && ((t >= $(to_ms "$q_at"))); then
    tmux send-keys -t "$session" q
    q_sent=1
    echo "tmux-capture: pressed q at $((t / 1000))s" >&2
  fi
  if [[ -n $c_at && -z $c_sent ]] && ((t >= $(to_ms "$c_at"))); then
    tmux send-keys -t "$session" C-c
    c_sent=1
    echo "tmux-capture: pressed Ctrl-C at $((t / 1000))s" >&2
  fi
  if ((t >= $(to_ms "$timeout"))); then
    capture "$out"
    echo "tmux-capture: gave up after ${timeout}s; screen so far in $out" >&2
    exit 124
  fi
  sleep 0.2
done

capture "$out"
status=$(cat "$status_file")
echo "tmux-capture: exit status $status; final screen -> $out" >&2
exit "$status"
