#!/usr/bin/env bash
# Starts validator N (1-4) of the consortium chain from the files
# `besu operator generate-blockchain-config` wrote into networkFiles/.
#   ./start-node.sh 1 [bootnode-enode-url]
# Node N listens for peers on 30302+N and serves JSON-RPC on 8544+N, so all four
# can run on one machine for a rehearsal; on separate machines use 30303/8545.
set -euo pipefail

n="${1:?usage: start-node.sh <1-4> [bootnode enode url]}"
bootnode="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/Node-$n/data"

if [ ! -f "$data/key" ]; then
  key_dir="$(ls -d "$here"/networkFiles/keys/0x* | sed -n "${n}p")"
  [ -n "$key_dir" ] || { echo "no key $n in networkFiles/keys (run generate-blockchain-config first)"; exit 1; }
  mkdir -p "$data"
  cp "$key_dir/key" "$key_dir/key.pub" "$data/"
fi
cp -n "$here/node/permissions_config.toml" "$data/permissions_config.toml" 2>/dev/null || true

args=(
  --config-file="$here/node/config.toml"
  --data-path="$data"
  --genesis-file="$here/networkFiles/genesis.json"
  --permissions-nodes-config-file="$data/permissions_config.toml"
  --permissions-accounts-config-file="$data/permissions_config.toml"
  --p2p-port=$((30302 + n))
  --rpc-http-port=$((8544 + n))
  --metrics-port=$((9544 + n))
)
if [ -n "$bootnode" ]; then args+=(--bootnodes="$bootnode"); fi
exec besu "${args[@]}"
