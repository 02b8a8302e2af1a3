# Sourced by the oracle scripts (filter-oracle.sh, head-oracle.sh): serves
# BINARY ($1) on a free loopback port with a temporary data dir and builds
# their world. X owns crew H; O owns crew G and is a plain member of H, so
# X may see O's user record; each crew has an invite, G's code is $CODE.
# Sets B (the base URL), ROOT, X, O (tokens), OID, H, G, CODE, and the
# helpers post and signin. Needs curl and jq.
BIN=${1:?usage: $0 BINARY}; PORT=$((20000 + RANDOM % 20000)); DIR=$(mktemp -d)
export HEARTH_SUPERUSER_EMAIL=root@oracle.test HEARTH_SUPERUSER_PASSWORD=root-password-123
"$BIN" serve --http 127.0.0.1:$PORT --dir "$DIR" >/dev/null 2>&1 & PID=$!
trap 'kill $PID; rm -rf "$DIR"' EXIT
B=http://127.0.0.1:$PORT
until curl -sf $B/api/health >/dev/null; do sleep 0.2; done
post() { curl -s -X POST "$B$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: $3"} -d "$2"; }
signin() { post /api/collections/users/auth-with-password "{\"identity\":\"$1@o.test\",\"password\":\"password-123456\"}"; }
ROOT=$(post /api/collections/_superusers/auth-with-password '{"identity":"root@oracle.test","password":"root-password-123"}' | jq -r .token)
for u in x o; do post /api/collections/users/records "{\"email\":\"$u@o.test\",\"name\":\"$u\",\"password\":\"password-123456\",\"passwordConfirm\":\"password-123456\"}" >/dev/null; done
X=$(signin x | jq -r .token)
OJ=$(signin o); O=$(echo "$OJ" | jq -r .token); OID=$(echo "$OJ" | jq -r .record.id)
H=$(post /api/collections/groups/records '{"name":"H"}' "$X" | jq -r .id)
G=$(post /api/collections/groups/records '{"name":"G"}' "$O" | jq -r .id)
post /api/collections/memberships/records "{\"group\":\"$H\",\"user\":\"$OID\",\"role\":\"member\"}" "$ROOT" >/dev/null
post /api/collections/invites/records "{\"group\":\"$H\"}" "$X" >/dev/null
CODE=$(post /api/collections/invites/records "{\"group\":\"$G\"}" "$O" | jq -r .code)
