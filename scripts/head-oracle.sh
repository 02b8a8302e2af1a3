#!/usr/bin/env bash
# Issue 17's oracles through HEAD against a hearth binary. X owns crew H;
# O owns crew G and is a plain member of H, so X sees O's user record; G
# has an invite and O a phone. Through HEAD (served by the GET handler),
# X asks:
#   1. through O's memberships, whether G's invite code starts with a
#      guess (a true and a false guess, then the whole code, one character
#      at a time, counting the requests);
#   2. through H's memberships, whether O's push token sorts after a guess
#      (a binary search on it recovers the token).
# A leaking server answers a true and a false guess with different
# Content-Lengths; Hearth refuses both alike (400), as it does for GET.
#
#   scripts/head-oracle.sh BINARY
#
# Needs curl and jq; serves on a free loopback port with a temporary data
# dir (oracle-world.sh).
set -euo pipefail
. "$(dirname "$0")/oracle-world.sh"
TOKEN="ExponentPushToken[o-phone-$RANDOM$RANDOM]"
post /api/collections/devices/records "{\"token\":\"$TOKEN\",\"platform\":\"ios\"}" "$O" >/dev/null
# X's own phone, with a token that sorts after any guess: the operator
# must hold for every device of H's members.
post /api/collections/devices/records '{"token":"ExponentPushToken[zz-x-phone]","platform":"ios"}' "$X" >/dev/null

# ask METHOD COLLECTION FILTER: "status content-length" of X's question
# (-I for HEAD: curl -X HEAD would wait for the body Content-Length announces).
ask() {
	local how=-I; [ "$1" = GET ] && how="-o /dev/null -D -"
	curl -s -G $how "$B/api/collections/$2/records" -H "Authorization: $X" \
		--data-urlencode "filter=$3" --data-urlencode fields=id --data-urlencode perPage=1 |
		tr -d '\r' | awk 'NR == 1 { s = $2 } tolower($1) == "content-length:" { l = $2 } END { print s, l }'
}
code() { echo "id = \"$OID\" && memberships_via_user.group.invites_via_group.code !~ \"$1%\""; }
token() { echo "id = \"$H\" && memberships_via_group.user.devices_via_user.token >= \"$1\""; }
WRONG=ZZZZ; [ "${CODE:0:4}" = ZZZZ ] && WRONG=YYYY

echo "G's invite code: $CODE; O's push token: $TOKEN"
echo "1. HEAD users?filter=$(code "${CODE:0:4}") (true):  $(ask HEAD users "$(code "${CODE:0:4}")")"
echo "   HEAD users?filter=$(code $WRONG) (false): $(ask HEAD users "$(code $WRONG)")"
echo "   GET, same true and false guesses:  $(ask GET users "$(code "${CODE:0:4}")") / $(ask GET users "$(code $WRONG)")"
echo "2. HEAD groups?filter=$(token 'ExponentPushToken[o-') (true):  $(ask HEAD groups "$(token 'ExponentPushToken[o-')")"
echo "   HEAD groups?filter=$(token 'ExponentPushToken[p') (false): $(ask HEAD groups "$(token 'ExponentPushToken[p')")"

# The whole code: a guessed prefix is right when the answer has the
# length of an empty page (no invite of O's crews fails to start with it).
EMPTY=$(ask HEAD users "$(code "$CODE")")
FULL=$(ask HEAD users "$(code $WRONG)")
if [ "$EMPTY" = "$FULL" ]; then
	echo "3. recovery: a true and a false guess answer alike ($EMPTY): nothing to recover"
	exit 0
fi
GOT=; N=0
for _ in $(seq 12); do
	for c in 2 3 4 5 6 7 8 9 A B C D E F G H J K M N P Q R S T U V W X Y Z; do
		N=$((N + 1))
		if [ "$(ask HEAD users "$(code "$GOT$c")")" = "$EMPTY" ]; then GOT=$GOT$c; break; fi
	done
done
echo "3. recovery through HEAD: $GOT in $N requests (the code is $CODE)"
