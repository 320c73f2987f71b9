#!/usr/bin/env bash
# The fuzz pass: builds the libFuzzer harnesses of tests/fuzz/ with clang
# under ASan+UBSan into build-fuzz/, then runs each one for a bounded time
# from a copy of its committed corpus (tests/fuzz/corpus/<harness>/; the copy
# grows, the committed one does not). Exits non-zero if any harness crashed,
# leaked, timed out on an input or broke a property, and names the input that
# did it (kept in build-fuzz/fuzz-artifacts/<harness>/).
#
#   bash scripts/fuzz.sh                      every harness, 20 s each
#   bash scripts/fuzz.sh endpoint_parse       one harness
#   RINGSOCK_FUZZ_SECONDS=600 bash scripts/fuzz.sh c_abi_calls   longer
#
# Environment: RINGSOCK_FUZZ_SECONDS (per harness, default 20),
# RINGSOCK_JOBS (harnesses run at once, default 2), RINGSOCK_FUZZ_KEEP=1
# keeps the grown corpus copies (their paths are printed), RINGSOCK_FUZZ_SEED
# (libFuzzer's -seed; unset: a new one each run).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${RINGSOCK_FUZZ_SECONDS:-20}"
jobs="${RINGSOCK_JOBS:-2}"
build=build-fuzz
per_input_timeout_s=10
rss_limit_mb=2048
seed_arg=()
if [[ -n "${RINGSOCK_FUZZ_SEED:-}" ]]; then
  seed_arg=(-seed="$RINGSOCK_FUZZ_SEED")
fi

bash scripts/fuzz-deps.sh

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Only what the harnesses need: the engine, the C library and the tool's code.
cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGSOCK_FUZZ=ON -DRINGSOCK_WERROR=ON \
  -DRINGSOCK_BUILD_TESTS=OFF -DRINGSOCK_BUILD_TOOLS=ON -DRINGSOCK_BUILD_BENCH=OFF \
  -DRINGSOCK_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
ninja -C "$build" -j "$jobs" fuzz_all

# The harnesses: named on the command line, else every one that was built.
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for binary in "$build"/tests/fuzz/fuzz_*; do
    [[ -x "$binary" ]] && harnesses+=("${binary##*/fuzz_}")
  done
fi

logs="$build/fuzz-logs"
artifacts="$build/fuzz-artifacts"
work="$(mktemp -d "${TMPDIR:-/tmp}/ringsock-fuzz.XXXXXX")"
if [[ "${RINGSOCK_FUZZ_KEEP:-0}" != "1" ]]; then
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$logs"

# Runs one harness; its exit status is libFuzzer's (0: nothing found).
run_harness() {
  local name="$1"
  local corpus="$work/$name"
  mkdir -p "$corpus" "$artifacts/$name"
  if [[ -d "tests/fuzz/corpus/$name" ]]; then
    cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  fi
  # halt_on_error: the first report ends the run; UBSan prints its stack.
  ASAN_OPTIONS="halt_on_error=1:detect_leaks=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout="$per_input_timeout_s" \
      -rss_limit_mb="$rss_limit_mb" -print_final_stats=1 "${seed_arg[@]}" \
      -artifact_prefix="$artifacts/$name/" "$corpus" >"$logs/$name.log" 2>&1
}

failed=()
execs_total=0
report() {  # name status
  local name="$1" status="$2" execs
  execs="$(grep -E '^stat::number_of_executed_units:' "$logs/$name.log" | awk '{print $2}' | tail -n1)"
  execs_total=$((execs_total + ${execs:-0}))
  if [[ "$status" -eq 0 ]]; then
    printf 'fuzz: %-18s ok   %9s inputs in %ss\n' "$name" "${execs:-?}" "$seconds"
    return
  fi
  failed+=("$name")
  printf 'fuzz: %-18s FAIL (exit %s); log %s\n' "$name" "$status" "$logs/$name.log"
  grep -E 'ERROR: |fuzz property broken|runtime error|SUMMARY' "$logs/$name.log" | head -n 5 || true
  grep -E 'Test unit written to' "$logs/$name.log" | sed 's/^/fuzz:   /' || true
}

# Harnesses run $jobs at a time; each one is bounded by -max_total_time.
declare -A pids=()
for name in "${harnesses[@]}"; do
  while [[ ${#pids[@]} -ge $jobs ]]; do
    for running in "${!pids[@]}"; do
      if ! kill -0 "${pids[$running]}" 2>/dev/null; then
        status=0
        wait "${pids[$running]}" || status=$?
        report "$running" "$status"
        unset "pids[$running]"
      fi
    done
    [[ ${#pids[@]} -ge $jobs ]] && sleep 0.5
  done
  run_harness "$name" &
  pids[$name]=$!
done
for running in "${!pids[@]}"; do
  status=0
  wait "${pids[$running]}" || status=$?
  report "$running" "$status"
done
if [[ "${RINGSOCK_FUZZ_KEEP:-0}" == "1" ]]; then
  echo "fuzz: grown corpora kept in $work"
fi

if [[ ${#failed[@]} -eq 0 ]]; then
  echo "fuzz summary: PASS, ${#harnesses[@]} harnesses x ${seconds}s, $execs_total inputs, no crash"
  exit 0
fi
echo "fuzz summary: FAIL, ${#failed[@]} of ${#harnesses[@]} harnesses crashed: ${failed[*]} (inputs in $artifacts/)"
echo "fuzz: minimise one with: $build/tests/fuzz/fuzz_<harness> -minimize_crash=1 -runs=10000 <input>"
exit 1
