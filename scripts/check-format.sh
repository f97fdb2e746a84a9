#!/usr/bin/env bash
# Checks that every C++ file under lib/ cmd/ tests/ bench/ is formatted as .clang-format says.
#   scripts/check-format.sh [CLANG_FORMAT]   (default: clang-format)
# Prints each offending file and exits 1 if there is any; fix with `clang-format -i FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=${1:-clang-format}
command -v "$cf" >/dev/null || { echo "$cf not found (Debian: apt-get install clang-format)" >&2; exit 2; }
bad=0
checked=0
while IFS= read -r -d '' f; do
  checked=$((checked + 1))
  if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "$f"
    bad=$((bad + 1))
  fi
done < <(find lib cmd tests bench -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \
           -o -name '*.cc' -o -name '*.def' \) -print0 | sort -z)
if [ "$bad" -ne 0 ]; then
  echo "$bad of $checked file(s) are not clang-formatted (clang-format -i FILE)" >&2
  exit 1
fi
echo "all $checked C++ file(s) are clang-formatted"
