#!/usr/bin/env bash
# test_server_tenants.sh — two uploaders never see each other's uploads.
# Two uploader tokens (made by staff through POST /api/tokens) each upload
# real dumps with their own note, case id and customer, plus one dump both
# upload (same content, so the same blob).  Neither's list, text search
# (trigram path, >= 3 characters, and LIKE path, 2 characters), status,
# signature and process filters, nor GET /api/signatures, ever include the
# other's uploads; each query also finds the caller's own (so an empty answer
# cannot pass for isolation), and staff see both.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA/user"
start_server "$WORK/data"
STAFF=(-H "Authorization: Bearer $ADMIN")
mk_token() { curl -s "${STAFF[@]}" -H 'Content-Type: application/json' -d "{\"role\":\"uploader\",\"name\":\"$1\"}" "$URL/api/tokens" | jq -r .token; }
A_TOKEN=$(mk_token alice); B_TOKEN=$(mk_token bob)
[[ -n $A_TOKEN && $A_TOKEN != null && -n $B_TOKEN && $B_TOKEN != null && $A_TOKEN != "$B_TOKEN" ]] || { echo "FAIL: no tokens ($A_TOKEN, $B_TOKEN)" >&2; exit 1; }
A=(-H "Authorization: Bearer $A_TOKEN")
B=(-H "Authorization: Bearer $B_TOKEN")

# up WHO-ARRAY-NAME FILE NOTE CUSTOMER CASE → id
up() {
  local -n who=$1
  curl -s "${who[@]}" -F "user=@$2" -F "note=$3" -F "customer=$4" -F "case_id=$5" "$URL/api/dumps" | jq -r .id
}
# Alice: the words "zebracorn"/"Quokkasoft" and the pair "qj" are hers only;
# Bob: "wombatique"/"Narwhalco" and "vx".  Signatures differ too:
# crash|…|test_app and crash|…|crash are Alice's, crash|…|sigsegv and
# crash|STATUS_INVALID_PARAMETER|crashtest Bob's.  Both send rizin__calc.dmp.
a_ids=("$(up A "$D/breakpad__minidump2.dmp" "zebracorn hangs qj" Quokkasoft CASE-ALICE-1)"
       "$(up A "$D/symbolicator__windows.dmp" "zebracorn again" Quokkasoft CASE-ALICE-2)"
       "$(up A "$D/rizin__calc.dmp" "calc by zebracorn" Quokkasoft CASE-ALICE-3)")
b_ids=("$(up B "$D/lldb__sigsegv.dmp" "wombatique crash vx" Narwhalco CASE-BOB-1)"
       "$(up B "$D/rust-minidump__invalid-parameter.dmp" "wombatique parameter" Narwhalco CASE-BOB-2)"
       "$(up B "$D/rizin__calc.dmp" "calc by wombatique" Narwhalco CASE-BOB-3)")
for id in "${a_ids[@]}" "${b_ids[@]}"; do
  [[ $id =~ ^[0-9a-f]+$ ]] || { echo "FAIL: upload refused: '$id'" >&2; exit 1; }
  check "upload $id analyzed" done "$(wait_done "$id")"
done
a_sorted=$(printf '%s\n' "${a_ids[@]}" | sort | tr '\n' ' ')
b_sorted=$(printf '%s\n' "${b_ids[@]}" | sort | tr '\n' ' ')
all_sorted=$(printf '%s\n' "${a_ids[@]}" "${b_ids[@]}" | sort | tr '\n' ' ')

# ids WHO-ARRAY-NAME QUERY → the sorted ids of GET /api/dumps?QUERY (one line)
ids() {
  local -n who=$1
  curl -s -G "${who[@]}" "$URL/api/dumps" --data "limit=200" ${2:+--data-urlencode "$2"} | jq -r '.items[].id' | sort | tr '\n' ' '
}
# only WHO QUERY EXPECTED-IDS… — the answer is exactly these ids
only() {
  local who=$1 q=$2; shift 2
  check "$who ?${q:-(no filter)}" "$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')" "$(ids "$who" "$q")"
}

# The list.
check "alice lists her own" "$a_sorted" "$(ids A "")"
check "bob lists his own" "$b_sorted" "$(ids B "")"
check "staff list both" "$all_sorted" "$(ids STAFF "")"
# Search, trigram path (>= 3 characters): the other's note, customer, case id.
for q in zebracorn Quokkasoft CASE-ALICE; do only B "q=$q"; only A "q=$q" "${a_ids[@]}"; done
for q in wombatique Narwhalco CASE-BOB; do only A "q=$q"; only B "q=$q" "${b_ids[@]}"; done
# The same dump (and so the same report text) both sent: each finds only theirs.
only A "q=calc" "${a_ids[2]}"; only B "q=calc" "${b_ids[2]}"; only STAFF "q=calc" "${a_ids[2]}" "${b_ids[2]}"
only A "q=${a_ids[0]}" "${a_ids[0]}"; only B "q=${a_ids[0]}"   # the id itself
# Search, LIKE path (2 characters).
only B "q=qj"; only A "q=qj" "${a_ids[0]}"; only STAFF "q=qj" "${a_ids[0]}"
only A "q=vx"; only B "q=vx" "${b_ids[0]}"; only STAFF "q=vx" "${b_ids[0]}"
# Status filter.
only A "status=done" "${a_ids[@]}"; only B "status=done" "${b_ids[@]}"
only STAFF "status=done" "${a_ids[@]}" "${b_ids[@]}"
# Signature filter (docs/api.md: ?signature= is an exact match).
sig() { curl -s "${STAFF[@]}" "$URL/api/dumps/$1" | jq -r '.summary.signature // empty'; }
a_sig=$(sig "${a_ids[0]}"); b_sig=$(sig "${b_ids[0]}"); shared_sig=$(sig "${a_ids[2]}")
[[ -n $a_sig && -n $b_sig ]] && ok || bad "no signature to filter on ('$a_sig', '$b_sig')"
only B "signature=$a_sig"; only A "signature=$a_sig" "${a_ids[0]}"
only A "signature=$b_sig"; only B "signature=$b_sig" "${b_ids[0]}"
if [[ -n $shared_sig ]]; then
  only A "signature=$shared_sig" "${a_ids[2]}"; only B "signature=$shared_sig" "${b_ids[2]}"
fi
# Process filter.
proc=$(curl -s "${STAFF[@]}" "$URL/api/dumps/${a_ids[2]}" | jq -r '.summary.process // empty')
if [[ -n $proc ]]; then
  only A "process=${proc##*\\}" "${a_ids[2]}"; only B "process=${proc##*\\}" "${b_ids[2]}"
fi
echo "filters used: signature '$a_sig' (alice), '$b_sig' (bob), '$shared_sig' (both); process '$proc'"
# Signatures: each sees the buckets of their own uploads, counted over theirs.
sigs() { local -n who=$1; curl -s "${who[@]}" "$URL/api/signatures" | jq -r '.items[] | "\(.signature)=\(.count)"' | sort | tr '\n' ' '; }
expect_sigs() { for id in "$@"; do sig "$id"; done | sed '/^$/d' | sort | uniq -c | awk '{print $2 "=" $1}' | sort | tr '\n' ' '; }
check "alice's signatures" "$(expect_sigs "${a_ids[@]}")" "$(sigs A)"
check "bob's signatures" "$(expect_sigs "${b_ids[@]}")" "$(sigs B)"
check "staff's signatures" "$(expect_sigs "${a_ids[@]}" "${b_ids[@]}")" "$(sigs STAFF)"
[[ $(sigs A) == *"$a_sig="* && $(sigs A) != *"$b_sig="* ]] && ok || bad "alice's signatures: $(sigs A)"
[[ $(sigs B) == *"$b_sig="* && $(sigs B) != *"$a_sig="* ]] && ok || bad "bob's signatures: $(sigs B)"
# One upload of the other's, by id: refused.
for id in "${b_ids[@]}"; do
  c=$(curl -s -o /dev/null -w '%{http_code}' "${A[@]}" "$URL/api/dumps/$id")
  [[ $c == 403 || $c == 404 ]] && ok || bad "alice reads bob's $id: $c"
done
finish
