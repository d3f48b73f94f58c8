#!/usr/bin/env bash
# Adds accounts to the accounts allowlist of Besu nodes, skipping those already on it, so it
# can run again and again (a daily job). See README.md, "Collectors and the accounts allowlist".
#
#   allowlist-accounts.sh RPC_URL [RPC_URL...] < addresses.txt
#
# addresses.txt holds one 0x address per line. Each RPC_URL is a node's JSON-RPC endpoint with
# the PERM API (http://127.0.0.1:8545 on the node's machine). Needs curl and jq.
set -euo pipefail
export LC_ALL=C

# Besu rewrites its permissions file on every change, so additions go in batches.
readonly BATCH=500

fail() {
  echo "allowlist-accounts.sh: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || {
  echo "usage: allowlist-accounts.sh RPC_URL [RPC_URL...] < addresses.txt" >&2
  exit 2
}
command -v curl >/dev/null || fail "curl is required"
command -v jq >/dev/null || fail "jq is required"

wanted="$(mktemp)"
listed="$(mktemp)"
missing="$(mktemp)"
trap 'rm -f "$wanted" "$listed" "$missing"' EXIT

# Besu stores addresses in lower case; compare them that way.
tr -d ' \t\r' | tr 'A-F' 'a-f' | grep -v '^$' | sort -u >"$wanted" || true
if bad="$(grep -Ev '^0x[0-9a-f]{40}$' "$wanted")"; then
  fail "not an address: $(head -n 1 <<<"$bad")"
fi
[[ -s "$wanted" ]] || fail "no addresses on standard input"

# One JSON-RPC call; prints the result, or fails with the node's error.
rpc() {
  local url="$1" method="$2" params="$3" response
  response="$(curl -sS -X POST -H 'Content-Type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" "$url")" ||
    fail "$url did not answer $method"
  if jq -e 'has("error")' <<<"$response" >/dev/null; then
    fail "$url refused $method: $(jq -c '.error' <<<"$response")"
  fi
  jq -c '.result' <<<"$response"
}

for url in "$@"; do
  rpc "$url" perm_getAccountsAllowlist '[]' | jq -r '.[] | ascii_downcase' | sort -u >"$listed"
  comm -23 "$wanted" "$listed" >"$missing"
  added=$(wc -l <"$missing")
  for ((start = 1; start <= added; start += BATCH)); do
    params="$(tail -n "+$start" "$missing" | head -n "$BATCH" | jq -R . | jq -sc '[.]')"
    [[ "$(rpc "$url" perm_addAccountsToAllowlist "$params")" == '"Success"' ]] ||
      fail "$url did not confirm perm_addAccountsToAllowlist"
  done
  echo "$url: $added added, $(($(wc -l <"$wanted") - added)) already allowed"
done
