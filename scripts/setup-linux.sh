#!/usr/bin/env bash
# Checks the Linux system libraries LiveCam needs and installs the missing ones.
# As root it runs apt-get; otherwise it prints the exact command and exits 1.
# Usage: scripts/setup-linux.sh [--with-window-tests] [--with-torch-oracle] [--with-stream-tests] [--with-cluster-tests]
#   --with-torch-oracle: also real PyTorch (Debian's python3-torch, python3-torchvision, python3-onnx), the judge some tests ask;
#   --with-stream-tests: also ffmpeg (network streams: RTSP, RTMP, MPEG-TS, HLS), GStreamer's RTSP server (a loopback
#   camera for the tests) and chromium (the browser view's test); both best effort: where they cannot be installed
#   those tests skip, saying why.
#   --with-cluster-tests: also Slurm (slurm-wlm: slurmctld, slurmd, sbatch) and munge, for the test that runs a one-node
#   cluster on localhost, and yamllint and python3-yaml for the Kubernetes manifest; best effort, as root only: the tests
#   skip otherwise.
set -euo pipefail

[ "$(uname -s)" = Linux ] || exit 0

want_xvfb=0 want_oracle=0 want_streams=0 want_cluster=0
for arg in "$@"; do
  case "$arg" in
    --with-window-tests) want_xvfb=1 ;;
    --with-torch-oracle) want_oracle=1 ;;
    --with-stream-tests) want_streams=1 ;;
    --with-cluster-tests) want_cluster=1 ;;
  esac
done

# Installs optional test packages as root, best effort: tests that need what could not be installed skip, saying why.
optional_install() { # packages, what they are for, what is skipped without them
  local pkgs=$1 purpose=$2 skipped=$3 not_root=${4:-}
  if [ "$(id -u)" = 0 ]; then
    echo "livecam setup: installing $pkgs ($purpose)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null 2>&1; } \
      || echo "livecam setup: could not install $pkgs; $skipped will be skipped" >&2
  else
    echo "livecam setup: $skipped will be skipped$not_root; to run them: sudo apt-get install -y $pkgs" >&2
  fi
  return 0
}

install_streams() {
  [ $want_streams = 1 ] || return 0
  local pkgs="ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-base chromium"
  command -v ffmpeg >/dev/null && [ -x /usr/bin/chromium ] && /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" >/dev/null 2>&1 && return 0
  optional_install "$pkgs" "network streams; a loopback RTSP camera and a browser for tests" "the stream tests"
}

install_cluster() {
  [ $want_cluster = 1 ] || return 0
  local pkgs="slurm-wlm munge yamllint python3-yaml"
  [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && [ -x /usr/bin/yamllint ] \
    && return 0
  optional_install "$pkgs" "a one-node Slurm cluster for the batch worker's test" "the Slurm test" " (it needs root)"
}

install_oracle() {
  [ $want_oracle = 1 ] || return 0
  # PyTorch judges the numbers; scikit-image's photographs (a face: astronaut.png) are real test data.
  local pkgs="python3-torch python3-torchvision python3-onnx python3-skimage"
  /usr/bin/python3 -c "import torch, torchvision, onnx" >/dev/null 2>&1 \
    && [ -f /usr/lib/python3/dist-packages/skimage/data/astronaut.png ] && return 0
  optional_install "$pkgs" "the PyTorch oracle and test photographs" \
    "the tests that compare with PyTorch or read test photographs"
}

# "what must be loadable" -> "Debian/Ubuntu package(s) that provide it" (t64 names on newer releases).
missing=()
# Read once, then searched: 'ldconfig -p | grep -q' under pipefail fails at random when the library is there (grep
# stops at the first match and ldconfig dies of SIGPIPE), and a present library was then reported missing.
# A normal user's PATH has no sbin, where Debian keeps ldconfig.
ldconfig=$(command -v ldconfig || { [ -x /sbin/ldconfig ] && echo /sbin/ldconfig; } || echo /usr/sbin/ldconfig)
libraries=$("$ldconfig" -p 2>/dev/null || true)
need_lib() { # soname, package candidates...
  local so=$1; shift
  grep -q "[[:space:]]$so[[:space:]]" <<<"$libraries" && return 0
  missing+=("$*")
}
need_lib libgtk-3.so.0      "libgtk-3-0 libgtk-3-0t64"   # OpenCvSharpExtern links GTK3 (highgui)
need_lib libEGL.so.1        "libegl1"                    # headless GL
[ -e /usr/share/glvnd/egl_vendor.d/50_mesa.json ] || missing+=("libegl-mesa0")
have_dri=0
for f in /usr/lib/*/dri/swrast_dri.so /usr/lib/*/dri/llvmpipe_dri.so /usr/lib/dri/swrast_dri.so; do
  [ -e "$f" ] && have_dri=1
done
[ $have_dri = 1 ] || missing+=("libgl1-mesa-dri")         # llvmpipe, the software GL
need_lib libGL.so.1         "libgl1"
need_lib libglfw.so.3       "libglfw3"                   # the window
if [ $want_xvfb = 1 ]; then
  command -v Xvfb >/dev/null || missing+=("xvfb")
  command -v xauth >/dev/null || missing+=("xauth")
  command -v xdotool >/dev/null || missing+=("xdotool")   # key presses for the live teach test
fi

if [ ${#missing[@]} -eq 0 ]; then
  install_oracle
  install_streams
  install_cluster
  exit 0
fi


# Pick, for each need, the first candidate package this system's apt knows.
apt_known() { apt-cache show "$1" >/dev/null 2>&1; }
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt_ok=0
  for cands in "${missing[@]}"; do
    for p in $cands; do apt_known "$p" && { apt_ok=1; break; }; done
  done
  [ $apt_ok = 1 ] || apt-get update -qq >/dev/null
fi

pkgs=()
for cands in "${missing[@]}"; do
  chosen=""
  for p in $cands; do
    if apt_known "$p"; then chosen=$p; break; fi
  done
  pkgs+=("${chosen:-${cands%% *}}")
done

if [ "$(id -u)" = 0 ]; then
  echo "livecam setup: installing ${pkgs[*]}" >&2
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
else
  echo "livecam setup: missing system libraries; run: sudo apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi
install_oracle
install_streams
install_cluster
