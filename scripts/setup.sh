#!/usr/bin/env bash
# Installs everything the agent and its tests need on a fresh Debian 12 machine (run as root), then
# builds. Idempotent: a second run skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(softhsm2 opensc openssl libssl-dev libusb-1.0-0 valgrind make gcc g++ pkg-config python3 chromium fonts-noto-cjk xvfb)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.ukey-agent-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

echo "setup: building the software UKey (native/softukey) and the TypeScript"
bash native/build.sh
npx tsc -p tsconfig.json
# The operator UI bundle the headless console and the desktop serve (dist/renderer).
node scripts/build-renderer.mjs >/dev/null
