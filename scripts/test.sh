#!/usr/bin/env bash
# The whole test suite: setup (idempotent), lint, the native module's tests (also under valgrind),
# then the TypeScript unit and integration tests against real PKCS#11 modules.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== lint"
npx eslint .
# The renderer is bundled by esbuild (no type check there): check its types here.
npx tsc -p renderer/tsconfig.json --noEmit
npx prettier --check . >/dev/null
node scripts/electronegativity.mjs
echo "== native: software UKey tests, interop with OpenSSL and pkcs11-tool, valgrind"
make -s -C native/softukey test
make -s -C native/softukey interop
make -s -C native/softukey valgrind
echo "== unit and integration tests"
node scripts/run-tests.mjs all
