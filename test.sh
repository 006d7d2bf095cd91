#!/usr/bin/env bash
# Runs every test of LiveCam, doing all setup first (system libraries, restore, build).
#   ./test.sh            the whole suite (what CI runs)
#   ./test.sh --slow     also the slow checks (tests marked [Trait("Category", "Slow")])
# The last line is the total: "N passed, N failed, N skipped".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

filter="Category!=Slow"
[ "${1:-}" = "--slow" ] && filter=""

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is needed and 'dotnet' is not on PATH" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if ! scripts/setup-linux.sh --with-window-tests --with-torch-oracle --with-stream-tests; then
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
dotnet test LiveCam.sln -c Debug --no-build --nologo ${filter:+--filter "$filter"} 2>&1 | tee "$log"

# Per assembly: "Passed!  - Failed:     0, Passed:    15, Skipped:     0, Total:    15, ..."
passed=0 failed=0 skipped=0 assemblies=0
while read -r f p s; do
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); assemblies=$((assemblies + 1))
done < <(sed -nE 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+), Total.*/\1 \2 \3/p' "$log")
expected=$(ls tests/*/*.Tests.csproj | wc -l)  # tests/Shared holds files linked into several projects
if [ "$assemblies" -ne "$expected" ]; then
  echo "test.sh: only $assemblies of $expected test assemblies reported results (a test host crashed?)" >&2
  failed=$((failed + expected - assemblies))
fi

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

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
