#!/usr/bin/env bash
# Starts node N of the consortium chain, or prints its enode URL. See README.md in this directory.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: start-node.sh N [besu options...]   start node N (node 1 is the bootnode)
       start-node.sh --enode N             print node N's enode URL, for the nodes allowlist

Files, in NETWORK_DIR (default: the directory of this script):
  genesis.json                          the genesis that generate-blockchain-config wrote
  node/config.toml                      the settings every node shares
  Node-N/data/key, Node-N/data/key.pub  node N's key pair (networkFiles/keys/<address>/)
  Node-N/data/permissions_config.toml   node N's allowlists (node/permissions_config.toml, filled in)

Environment:
  P2P_HOST      the IP the other nodes reach this node at (default 127.0.0.1)
  BOOTNODES     enode URL(s) of the bootnode(s), comma-separated. Nodes 2 and up need it, unless
                Node-1/data/key.pub is present: then node 1 at BOOTNODE_HOST (default 127.0.0.1),
                port 30303, is the bootnode
  SAME_HOST=1   every node runs on this machine (a rehearsal): node N listens on 30303+N-1 (P2P),
                8545+N-1 (JSON-RPC) and 9545+N-1 (metrics) instead of the standard ports
  BESU          the besu executable (default: besu on PATH)
EOF
  exit 2
}

fail() {
  echo "start-node.sh: $*" >&2
  exit 1
}

mode=start
if [[ "${1:-}" == "--enode" ]]; then
  mode=enode
  shift
fi
node="${1:-}"
[[ "$node" =~ ^[1-9][0-9]*$ ]] || usage
shift

network_dir="${NETWORK_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
data_dir="$network_dir/Node-$node/data"
offset=0
if [[ "${SAME_HOST:-0}" == 1 ]]; then
  offset=$((node - 1))
fi
p2p_host="${P2P_HOST:-127.0.0.1}"

# Node $1's public key as an enode needs it: 128 hex digits, no 0x.
public_key() {
  local file="$network_dir/Node-$1/data/key.pub" key
  [[ -f "$file" ]] || fail "no $file (copy it from networkFiles/keys/<address>/key.pub)"
  key="$(tr -d ' \r\n' <"$file")"
  key="${key#0x}"
  [[ "$key" =~ ^[0-9a-fA-F]{128}$ ]] || fail "$file does not hold a secp256k1 public key"
  printf '%s' "$key"
}

if [[ "$mode" == enode ]]; then
  echo "enode://$(public_key "$node")@$p2p_host:$((30303 + offset))"
  exit 0
fi

besu="${BESU:-besu}"
command -v "$besu" >/dev/null || fail "$besu not found: install Besu (README, step 1) or set BESU"
[[ -f "$network_dir/genesis.json" ]] || fail "no $network_dir/genesis.json (README, step 2)"
# Without its key Besu would create a new one, and the node would not be the validator the genesis names.
[[ -f "$data_dir/key" ]] || fail "no $data_dir/key (README, step 2)"
permissions="$data_dir/permissions_config.toml"
[[ -f "$permissions" ]] || fail "no $permissions (README, step 3)"
if grep -v '^[[:space:]]*#' "$permissions" | grep -q '<'; then
  fail "$permissions still holds a <placeholder>"
fi

bootnodes="${BOOTNODES:-}"
if [[ -z "$bootnodes" && "$node" != 1 && -f "$network_dir/Node-1/data/key.pub" ]]; then
  bootnodes="enode://$(public_key 1)@${BOOTNODE_HOST:-127.0.0.1}:30303"
fi
if [[ -z "$bootnodes" && "$node" != 1 ]]; then
  fail "set BOOTNODES to node 1's enode URL"
fi

args=(
  --config-file="$network_dir/node/config.toml"
  --data-path="$data_dir"
  --genesis-file="$network_dir/genesis.json"
  --p2p-host="$p2p_host"
  --p2p-port=$((30303 + offset))
  --rpc-http-port=$((8545 + offset))
  --metrics-port=$((9545 + offset))
)
if [[ -n "$bootnodes" ]]; then
  args+=(--bootnodes="$bootnodes")
fi
exec "$besu" "${args[@]}" "$@"
