#!/usr/bin/env bash
# Build the SoftUKey PKCS#11 module (native/softukey/build/libsoftukey.so) and the native SM2 addon
# for plain Node (native/sm2-node/build/Release/sm2_node.node).
# Idempotent and quiet: only prints on error. SoftUKey is a DEVELOPMENT / TEST token.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
make -s -C softukey all

# The SM2 addon is optional (main/core/crypto falls back to pure JS), so a failed build warns and
# goes on. It compiles against the headers of the running Node (Debian's nodejs ships them in
# /usr/include/node, OpenSSL's included) and links to no libssl: Node's own OpenSSL resolves it.
addon=sm2-node/build/Release/sm2_node.node
stamp=sm2-node/build/.node-version
if [ ! -f "$addon" ] || [ sm2-node/src/sm2_node.c -nt "$addon" ] || [ sm2-node/binding.gyp -nt "$addon" ] ||
  [ "$(cat "$stamp" 2>/dev/null)" != "$(node -p process.versions.modules)" ]; then
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  nodedir=()
  # Local headers: no download of a header tarball.
  [ -f "$(dirname "$(command -v node)")/../include/node/common.gypi" ] &&
    nodedir=(--nodedir="$(readlink -f "$(dirname "$(command -v node)")/..")")
  if (cd sm2-node && node "$gyp" rebuild "${nodedir[@]}" --loglevel=error >build.log 2>&1); then
    node -p process.versions.modules >"$stamp"
    rm -f sm2-node/build.log
  else
    echo "native/build.sh: the SM2 addon did not build (see native/sm2-node/build.log); SM2 runs in pure JS" >&2
  fi
fi
