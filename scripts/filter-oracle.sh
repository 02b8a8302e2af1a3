#!/usr/bin/env bash
# Issue 8's filter oracle against a hearth binary: X owns crew H; O owns
# crew G and is a plain member of H, so X may see O's user record; each
# crew has an invite. X then asks, through O's memberships, whether G's
# invite code starts with a right and with a wrong guess. A leaking server
# answers the two differently (0 and 1 items); Hearth refuses both alike.
#
#   scripts/filter-oracle.sh BINARY
#
# Needs curl and jq; serves on a free loopback port with a temporary data
# dir (oracle-world.sh).
set -euo pipefail
. "$(dirname "$0")/oracle-world.sh"
ask() { curl -s -G "$B/api/collections/users/records" -H "Authorization: $X" --data-urlencode "filter=id=\"$OID\" && memberships_via_user.group.invites_via_group.code !~ \"$1%\""; }
echo "G's invite code: $CODE"
echo "right guess (${CODE:0:4}): $(ask "${CODE:0:4}" | jq -c '{status, totalItems, data}')"
echo "wrong guess (ZZZZ): $(ask ZZZZ | jq -c '{status, totalItems, data}')"
