#!/usr/bin/env bash
# The product's main job: the headless agent with a demo — development UKeys (SM2 software UKeys and
# a SoftHSM RSA token) with a demo PKI, a reference e-seal platform, a registered demo caller and
# seals. Signature requests are approved at this terminal. Idempotent; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec ./bin/ukey-agent.js serve --demo "$@"
