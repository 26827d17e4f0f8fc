#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests when we can (root, apt);
# otherwise say so: those tests then skip with a clear reason.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian chromium for the browser tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
        || echo "warning: could not install chromium; browser tests will be skipped"
else
    echo "note: chromium not found and cannot be installed here (needs root + apt); browser tests will be skipped"
fi
exit 0
