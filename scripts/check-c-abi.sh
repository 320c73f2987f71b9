#!/usr/bin/env bash
# Checks the C ABI libraries a build made: scripts/check-c-abi.sh BUILD_DIR
#
#  1. libringsock.a and libringsock.so reference nothing of the C++ runtime:
#     no operator new/delete (_Znw* _Zna* _Zdl* _Zda*), no __cxa_* other than
#     glibc's own (__cxa_finalize, __cxa_atexit, __cxa_thread_atexit_impl), no
#     __gxx_personality*, no std:: names (_ZSt*, _ZNSt*, _ZNKSt* and the other
#     std abbreviations Sa Sb Ss Si So Sd), no type info or vtables (_ZTI*,
#     _ZTV*, _ZTS*), no __dynamic_cast, no _Unwind_Resume. (For the
#     archive: references its own members do not define.)
#  2. libringsock.so needs no libstdc++ and its SONAME is libringsock.so.MAJOR.
#  3. The shared library exports exactly the functions ringsock.map lists, each
#     at version RINGSOCK_0 or a later minor's node (RINGSOCK_0.3), and those are exactly the functions ringsock.h
#     declares.
# NM and READELF may name other tools (a cross build's). Exit 0 = all good.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
nm="${NM:-nm}"
readelf="${READELF:-readelf}"
archive="$build/bindings-c/libringsock.a"
shared="$build/bindings-c/libringsock.so"
header="$root/bindings-c/include/ringsock.h"
map="$root/bindings-c/ringsock.map"
status=0

fail() {
  echo "FAIL: $*" >&2
  status=1
}

for file in "$archive" "$shared"; do
  [[ -e "$file" ]] || { echo "FAIL: $file is missing (build the project first)" >&2; exit 1; }
done

# Symbol names only: no addresses, no @VERSION suffixes.
names() { awk '{print $NF}' | sed 's/@.*//' | sort -u; }

cxx_runtime='^(_Znw|_Zna|_Zdl|_Zda|__cxa_|__gxx_personality|_Z(N|NK)?S[tabsiod]|_ZTI|_ZTV|_ZTS|__dynamic_cast|_Unwind_Resume)'
glibc_cxa='^(__cxa_finalize|__cxa_atexit|__cxa_thread_atexit_impl)$'

check_runtime() {  # $1 = label; stdin = the unresolved names
  local label="$1" bad
  bad="$(grep -E "$cxx_runtime" | grep -Ev "$glibc_cxa" || true)"
  if [[ -n "$bad" ]]; then
    fail "$label references the C++ runtime:"
    sed 's/^/  /' <<<"$bad" >&2
  else
    echo "ok: $label: no C++ runtime reference"
  fi
}

# 1. The archive: what its members leave undefined, minus what other members define.
archive_undefined="$("$nm" -u "$archive" 2>/dev/null | grep -v ':$' | names)"
archive_defined="$("$nm" --defined-only "$archive" 2>/dev/null | grep -v ':$' | grep -E '^[0-9a-f]+ [A-Za-z] ' | names)"
archive_unresolved="$(comm -23 <(echo "$archive_undefined") <(echo "$archive_defined") | sed '/^$/d')"
check_runtime "libringsock.a" <<<"$archive_unresolved"
echo "   libringsock.a needs from elsewhere: $(echo "$archive_unresolved" | grep -c .) symbols:" \
  "$(echo "$archive_unresolved" | tr '\n' ' ')"

# 1. The shared library: its undefined dynamic symbols.
shared_unresolved="$("$nm" -D --undefined-only "$shared" | names)"
check_runtime "libringsock.so" <<<"$shared_unresolved"

# 2. NEEDED and SONAME.
major="$(sed -n 's/^#define RSK_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")"
dynamic="$("$readelf" -d "$shared")"
needed="$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic" | tr '\n' ' ')"
soname="$(sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' <<<"$dynamic")"
if grep -q 'libstdc++' <<<"$needed"; then
  fail "libringsock.so needs libstdc++ ($needed)"
else
  echo "ok: libringsock.so needs only: $needed"
fi
if [[ "$soname" != "libringsock.so.$major" ]]; then
  fail "SONAME is '$soname', expected libringsock.so.$major (RSK_VERSION_MAJOR)"
else
  echo "ok: SONAME $soname"
fi

# 3. Exports = ringsock.map = ringsock.h.
exported_raw="$("$nm" -D --defined-only "$shared" | awk '{print $NF}')"
exported="$(sed 's/@.*//' <<<"$exported_raw" | grep -v '^RINGSOCK_' | sort -u)"
unversioned="$(grep -Ev '@@RINGSOCK_0(\.[0-9]+)?$' <<<"$exported_raw" | grep -v '^RINGSOCK_' || true)"
listed="$(sed -n '/global:/,/}/p' "$map" | grep -oE '\brsk_[a-z_]+' | sort -u)"
declared="$(grep -oE '^RSK_API [^(]*\brsk_[a-z_]+\(' "$header" | grep -oE 'rsk_[a-z_]+\($' |
  tr -d '(' | sort -u)"
if [[ -n "$unversioned" ]]; then
  fail "exports without a RINGSOCK_0 version: $(tr '\n' ' ' <<<"$unversioned")"
fi
if [[ "$exported" != "$listed" ]]; then
  fail "libringsock.so exports differ from ringsock.map:"
  diff <(echo "$exported") <(echo "$listed") | sed 's/^/  /' >&2 || true
fi
if [[ "$listed" != "$declared" ]]; then
  fail "ringsock.map differs from the functions ringsock.h declares (< map, > header):"
  diff <(echo "$listed") <(echo "$declared") | sed 's/^/  /' >&2 || true
fi
if [[ "$exported" == "$listed" && "$listed" == "$declared" && -z "$unversioned" ]]; then
  echo "ok: $(grep -c . <<<"$exported") exports at RINGSOCK_0* = ringsock.map = ringsock.h"
fi

if [[ $status -eq 0 ]]; then
  echo "check-c-abi: OK"
else
  echo "check-c-abi: FAILED" >&2
fi
exit "$status"
