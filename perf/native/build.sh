#!/usr/bin/env bash
# Builds the C reference baselines with cc -O2. Without a C compiler it says so and exits 0 (the harness then skips them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/bin/l4rt_cref}
if ! command -v cc >/dev/null 2>&1; then
  echo "notice: no C compiler (cc); the C baselines are skipped" >&2
  exit 0
fi
mkdir -p "$(dirname "$OUT")"
cc -O2 -std=gnu11 -Wall -Wextra -Werror -o "$OUT" "$here/l4rt_cref.c"
