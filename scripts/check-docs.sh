#!/usr/bin/env bash
# Checks the documentation against the rules it must keep:
#   bash scripts/check-docs.sh [BUILD_DIR]
# - README.md is at most 15 KB (15360 bytes);
# - README.md and docs/ carry no issue numbers, commit hashes or session history;
# - every relative link in README.md, docs/*.md, bench/README.md and
#   bench/experiments/README.md points at a file that exists (and at a
#   heading that exists, for links into a Markdown file's #anchor);
# - with BUILD_DIR (a configured and built tree: the engine's static library
#   and libringsock.a), the README's C++ and C examples compile and link.
# Exits 1 on the first kind of failure it finds, after reporting all of it.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
fail() { printf 'check-docs: %s\n' "$*" >&2; status=1; }

size=$(wc -c <README.md)
if ((size > 15360)); then
  fail "README.md is $size bytes, more than 15360"
fi

if git grep -nE '\b(commit [0-9a-f]{7}|issue [0-9]+|session)\b' -- README.md 'docs/*' >&2; then
  fail "issue numbers, commit hashes or session history in README.md or docs/ (above)"
fi

python3 - <<'PY' || status=1
import glob, os, re, sys
files = ["README.md", "bench/README.md", "bench/experiments/README.md"] + sorted(glob.glob("docs/*.md"))
def strip_code(text):
    return re.sub(r"```.*?```", "", text, flags=re.S)
def anchors(path):
    found = set()
    for heading in re.findall(r"^#+\s+(.*)$", strip_code(open(path).read()), re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found
bad = 0
for name in files:
    for target in re.findall(r"\]\(([^)\s]+)\)", strip_code(open(name).read())):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(name), path)) if path else name
        if not os.path.exists(full):
            print("check-docs: %s: link to a missing file: %s" % (name, target), file=sys.stderr)
            bad += 1
        elif fragment and full.endswith(".md") and fragment not in anchors(full):
            print("check-docs: %s: link to a missing heading: %s" % (name, target), file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
PY

if [[ $# -ge 1 ]]; then
  build="$1"
  work=$(mktemp -d "${TMPDIR:-/tmp}/ringsock-docs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  python3 - "$work" <<'PY'
import re, sys
text = open("README.md").read()
for lang, code in re.findall(r"```(cpp|c)\n(.*?)```", text, flags=re.S):
    open("%s/readme.%s" % (sys.argv[1], lang), "w").write(code)
PY
  uring=$(pkg-config --libs liburing 2>/dev/null || true)
  if [[ -f "$work/readme.cpp" ]]; then
    c++ -std=c++20 -Wall -Wextra -Werror -Iengine/include "$work/readme.cpp" \
      "$build/engine/libringsock_engine.a" $uring -o "$work/readme_cpp" ||
      fail "the README's C++ example does not build"
  fi
  if [[ -f "$work/readme.c" ]]; then
    cc -std=c11 -Wall -Wextra -Werror -pedantic -Ibindings-c/include "$work/readme.c" \
      "$build/bindings-c/libringsock.a" $uring -o "$work/readme_c" ||
      fail "the README's C example does not build"
  fi
fi

if ((status == 0)); then
  echo "check-docs: ok"
fi
exit "$status"
