#!/usr/bin/env bash
# Install Debian's Chromium and a CJK font for the HTML report test when missing (needs root, apt).
set -u
if { command -v chromium || command -v chromium-browser; } >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wqy; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is not installed and cannot be installed here (need root and apt);" \
       "the browser test will be skipped" >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium for the HTML report test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
  || echo "ensure-chromium: apt-get install chromium failed; the browser test will be skipped" >&2
exit 0
