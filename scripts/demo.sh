#!/usr/bin/env bash
# The product's main job, as far as it is built: provision development UKeys with a demo PKI and
# list them through the agent's PKCS#11 core. Idempotent (an existing demo is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
DEMO_DIR=${UKEY_DEMO_DIR:-$HOME/.local/share/ukey-agent/dev-tokens}
./bin/ukey-agent.js demo-pki --dir "$DEMO_DIR"
echo
echo "UKeys plugged in (software UKeys in $DEMO_DIR):"
./bin/ukey-agent.js token list --dev-dir "$DEMO_DIR"
