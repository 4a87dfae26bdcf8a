#!/usr/bin/env bash
# Build the SoftUKey PKCS#11 module (native/softukey/build/libsoftukey.so).
# Idempotent and quiet: only prints on error. DEVELOPMENT / TEST token.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
make -s -C softukey all
