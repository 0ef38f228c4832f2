#!/usr/bin/env bash
# Grep and Glob on a 100,000-file tree against `grep -r` and `find`.
#
#   bench/tools/grep_glob_bench.sh <file_tools_bench binary> [tree dir]
#
# The tree (1,000 directories of 100 files, deterministic content, ~40 MB) is
# built once under /tmp and reused. Each timing is the best of 3 warm runs.
set -euo pipefail
BIN=${1:?usage: $0 <file_tools_bench binary> [tree dir]}
TREE=${2:-/tmp/agentd-bench-tree}

if [[ ! -f "$TREE/.complete" ]]; then
  rm -rf "$TREE"
  python3 - "$TREE" <<'PY'
import os, sys
root = sys.argv[1]
exts = [".py", ".js", ".txt", ".md", ".c"]
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for d in range(1000):
    sub = os.path.join(root, f"pkg{d // 100:02d}", f"mod{d:04d}")
    os.makedirs(sub, exist_ok=True)
    for f in range(100):
        n = d * 100 + f
        lines = [f"# file {n}"]
        for i in range(8):
            lines.append(" ".join(words[(n + i * 7 + k) % len(words)] for k in range(6)) + f" {i}")
        if n % 997 == 0:
            lines.append("needle_marker found here")
        with open(os.path.join(sub, f"f{f:03d}{exts[n % len(exts)]}"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
open(os.path.join(root, ".complete"), "w").close()
PY
fi

best() {  # best wall time of 3 runs of "$@", in seconds
  local b=999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    b=$(python3 -c "print(min($b, $e - $s))")
  done
  printf '%.3f' "$b"
}

echo "tree: $TREE ($(find "$TREE" -type f | wc -l) files)"
read -r g_t g_n < <("$BIN" grep "$TREE" needle_marker files_with_matches)
grep_t=$(best grep -r -l needle_marker "$TREE")
echo "Grep files_with_matches: ${g_t}s (${g_n} files)  grep -r -l: ${grep_t}s ($(grep -r -l needle_marker "$TREE" | wc -l) files)"
read -r c_t c_n < <("$BIN" grep "$TREE" 'needle_\w+' content)
grepn_t=$(best grep -r -n -E 'needle_[[:alnum:]_]+' "$TREE")
echo "Grep content (regex):    ${c_t}s (${c_n} lines)  grep -rnE:   ${grepn_t}s"
read -r b_t b_n < <("$BIN" glob "$TREE" '**/*.py')
find_t=$(best find "$TREE" -name '*.py' -type f)
echo "Glob **/*.py:            ${b_t}s (${b_n} files)  find -name:  ${find_t}s ($(find "$TREE" -name '*.py' -type f | wc -l) files)"
