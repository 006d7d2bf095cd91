#!/usr/bin/env bash
# Runs every test of LiveCam, doing all setup first (system libraries, restore, build).
#   ./test.sh            the whole suite (what CI runs)
#   ./test.sh --slow     also the slow checks (tests marked [Trait("Category", "Slow")])
# The last line is the total: "N passed, N failed, N skipped".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The test hosts load libtorch as the app does (which sets this itself): its OpenMP workers then sleep between
# parallel regions instead of spinning, which on 2 cores starved the other test hosts. No number depends on it.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

filter="Category!=Slow"
[ "${1:-}" = "--slow" ] && filter=""

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed and 'dotnet' is not on PATH" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if ! scripts/setup-linux.sh --with-window-tests --with-torch-oracle --with-stream-tests --with-cluster-tests; then
  echo "0 passed, 1 failed"
  exit 1
fi
if ! dotnet build LiveCam.sln -c Debug -nologo -v q -clp:ErrorsOnly; then
  echo "test.sh: the build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"; rm -rf "${launch:-}"' EXIT

# Which processor this is decides which kernels run: say so, and what oneDNN chose in each pass.
# (No pipeline here stops reading early: under pipefail its writer would die of SIGPIPE.)
model=$(sed -n '/^model name/{s/^model name[[:space:]]*: //p;q}' /proc/cpuinfo 2>/dev/null)
flags=$(sed -n '/^flags/{s/^flags[[:space:]]*: //p;q}' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' \
  | sed -n -E '/^(avx2|fma|avx512f|avx512bw|avx512_vnni|avx512_bf16|avx512_fp16|amx_tile|avx_vnni|topoext)$/p' | tr '\n' ' ')
echo "processor: ${model:-unknown}, $(nproc) cores; flags that matter: ${flags:-none of AVX2, AVX-512}"
isa_of() { # the ISA oneDNN reports when it starts under the given environment
  local verbose
  verbose=$(env "$@" ONEDNN_VERBOSE=1 dotnet artifacts/bin/LiveCam.App/debug/livecam.dll doctor 2>/dev/null)
  sed -n '/info,cpu,isa:/{s/^.*info,cpu,isa://p;q}' <<<"$verbose"
}

# Per assembly: "Passed!  - Failed:     0, Passed:    15, Skipped:     0, Total:    15, ..."
passed=0 failed=0 skipped=0
reported=0
count() { # adds up one run's per-assembly lines; sets how many assemblies reported
  local f p s
  reported=0
  while read -r f p s; do
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); reported=$((reported + 1))
  done < <(sed -nE 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+), Total.*/\1 \2 \3/p' "$log")
}

echo "pass 1: every test; oneDNN at this processor's own ISA ($(isa_of))"
dotnet test LiveCam.sln -c Debug --no-build --nologo ${filter:+--filter "$filter"} 2>&1 | tee "$log"
count
expected=$(ls tests/*/*.Tests.csproj | wc -l)  # tests/Shared holds files linked into several projects
if [ "$reported" -ne "$expected" ]; then
  echo "test.sh: only $reported of $expected test assemblies reported results (a test host crashed?)" >&2
  failed=$((failed + expected - reported))
fi

# The numeric tests (parity with PyTorch and ONNX Runtime, training, method correctness, the kernels themselves) again
# where other kernels run: AVX2's, and oneDNN shown the caches of a processor whose CPUID hides them (then corrected).
numeric="Category=Numeric${filter:+&$filter}"
numeric_pass() { # label, environment...
  local label=$1; shift
  echo "$label ($(isa_of "$@"))"
  : >"$log"
  for project in tests/LiveCam.Models.Tests tests/LiveCam.Explain.Tests; do
    env "$@" dotnet test "$project" -c Debug --no-build --nologo --filter "$numeric" 2>&1 | tee -a "$log"
  done
  count
  if [ "$reported" -ne 2 ]; then
    echo "test.sh: $label: a test assembly reported no results" >&2
    failed=$((failed + 1))
  fi
}
# Pass 2 is an AVX2 machine: oneDNN's AVX2 kernels, and .NET's vectors no wider than 256 bits.
numeric_pass "pass 2: numeric tests, ONEDNN_MAX_CPU_ISA=AVX2 DOTNET_EnableAVX512=0" ONEDNN_MAX_CPU_ISA=AVX2 \
  DOTNET_EnableAVX512=0
numeric_pass "pass 3: numeric tests, oneDNN shown no cache sizes (LIVECAM_SIMULATE_CPU=no-cache-info)" LIVECAM_SIMULATE_CPU=no-cache-info

# The launcher, as a new user runs it: a live headless run, then the video read back. Live mode may drop frames
# when the machine is busy, so the check is that every frame is accounted for (shown + dropped = captured) and
# that the file holds exactly the frames shown, not that none was dropped.
launch=$(mktemp -d)
launcher_ok=false
if ./livecam run --source synthetic --frames 60 --headless --out "$launch/launch.mp4" >"$launch/run.log" 2>&1 \
   && ./livecam probe --source "$launch/launch.mp4" --count >"$launch/probe.log" 2>&1; then
  read -r captured shown dropped < <(sed -nE 's/^frames: ([0-9]+) captured, ([0-9]+) shown, [0-9]+ analysed, ([0-9]+) dropped.*/\1 \2 \3/p' "$launch/run.log")
  decoded=$(sed -nE 's/^decoded: ([0-9]+) frames, last 640x480.*/\1/p' "$launch/probe.log")
  if [ "${captured:-0}" -eq 60 ] && [ $((shown + dropped)) -eq 60 ] && [ "${decoded:-x}" = "$shown" ] && [ "$shown" -gt 0 ]; then
    launcher_ok=true
    echo "launcher: ./livecam run --headless captured 60 frames, wrote the $shown shown ($dropped dropped) at 640x480: passed"
  fi
fi
if $launcher_ok; then
  passed=$((passed + 1))
else
  echo "launcher: FAILED" >&2
  cat "$launch"/*.log >&2
  failed=$((failed + 1))
fi

# The launcher as a normal user, as people run it: a login PATH without sbin, the built app in a folder they can read.
# Twenty starts with every library present must all start; with a library the loader cannot find, one line naming the
# install to run and exit code 1. Only where this runs as root and can make a user.
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v runuser >/dev/null; then
  user=livecam-ci
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user" >/dev/null 2>&1
  app=$(mktemp -d)
  chmod 755 "$app"
  mkdir -p "$app/artifacts/bin/LiveCam.App"
  cp -a livecam global.json scripts "$app/"
  cp -al artifacts/bin/LiveCam.App/release "$app/artifacts/bin/LiveCam.App/" 2>/dev/null \
    || cp -a artifacts/bin/LiveCam.App/release "$app/artifacts/bin/LiveCam.App/"
  touch "$app/artifacts/.livecam-release-build"
  as_user() { runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$1" DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 "$app/livecam" --help; }
  started=0
  for i in $(seq 1 20); do
    as_user /usr/local/bin:/usr/bin:/bin >"$app/help.out" 2>"$app/help.err" && grep -c "^Usage:" "$app/help.out" >/dev/null && started=$((started + 1))
  done
  if [ "$started" -eq 20 ]; then
    echo "launcher as a normal user: 20 of 20 starts: passed"; passed=$((passed + 1))
  else
    echo "launcher as a normal user: FAILED, $started of 20 starts" >&2; cat "$app/help.err" >&2; failed=$((failed + 1))
  fi
  # A loader cache without GLFW, as where libglfw3 is not installed.
  mkdir "$app/fake"
  printf '#!/bin/sh\n%s -p | grep -v libglfw\n' "$(command -v ldconfig || echo /sbin/ldconfig)" >"$app/fake/ldconfig"
  chmod 755 "$app/fake" "$app/fake/ldconfig"
  as_user "$app/fake:/usr/local/bin:/usr/bin:/bin" >"$app/help.out" 2>"$app/help.err"
  code=$?
  if [ "$code" -eq 1 ] && [ "$(wc -l <"$app/help.err")" -eq 1 ] && grep -c "sudo apt-get install -y libglfw3" "$app/help.err" >/dev/null; then
    echo "launcher as a normal user without GLFW: one line, exit 1: passed"; passed=$((passed + 1))
  else
    echo "launcher as a normal user without GLFW: FAILED (exit $code)" >&2; cat "$app/help.err" >&2; failed=$((failed + 1))
  fi
  rm -rf "$app"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
