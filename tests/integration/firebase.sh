#!/usr/bin/env bash
# tests/integration/firebase.sh: firebase.json and firestore.indexes.json are valid JSON in Firebase's format, name the rules file and every index the seed's and the daemon's queries need.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tp_init firebase --no-programs

FB=$TP_SRCDIR/firebase.json
IX=$TP_SRCDIR/firestore.indexes.json

for f in "$FB" "$IX"; do
	tp_run jq -e 'type == "object"' "$f"
	tp_rc "$(basename "$f") is a JSON object" 0
done
fb='' ix=''
tp_slurp fb "$FB"
tp_slurp ix "$IX"

tp_eq "firebase.json: firestore.rules is the rules file" firestore.rules "$(tp_jq .firestore.rules "$fb")"
tp_eq "firebase.json: firestore.indexes is the indexes file" firestore.indexes.json "$(tp_jq .firestore.indexes "$fb")"
tp_true "the files firebase.json names exist beside it" test -f "$TP_SRCDIR/$(tp_jq .firestore.rules "$fb")" -a -f "$TP_SRCDIR/$(tp_jq .firestore.indexes "$fb")"

# Firebase's format: indexes[] {collectionGroup, queryScope, fields[] {fieldPath, order | arrayConfig}},
# fieldOverrides[] {collectionGroup, fieldPath, indexes[] {order | arrayConfig, queryScope}}.
tp_eq "indexes file: only indexes and fieldOverrides" '["fieldOverrides","indexes"]' "$(tp_jq 'keys | tojson' "$ix")"
tp_eq "every composite index has a collection group, a scope and 2+ fields each with an order or array config" true \
    "$(tp_jq '.indexes | all(
	(.collectionGroup | type == "string") and (.queryScope == "COLLECTION" or .queryScope == "COLLECTION_GROUP")
	and (.fields | length >= 2)
	and (.fields | all((.fieldPath | type == "string")
	    and ((.order == "ASCENDING" or .order == "DESCENDING") or .arrayConfig == "CONTAINS"))))' "$ix")"
tp_eq "every field override names its field and valid indexes" true \
    "$(tp_jq '.fieldOverrides | all((.collectionGroup | type == "string") and (.fieldPath | type == "string")
	and (.indexes | all((.queryScope == "COLLECTION" or .queryScope == "COLLECTION_GROUP")
	    and ((.order == "ASCENDING" or .order == "DESCENDING") or .arrayConfig == "CONTAINS"))))' "$ix")"

# has_index COLLECTION SCOPE FIELD:ORDER...: that composite index, fields in that order.
has_index() {
	local c=$1 s=$2 want
	shift 2
	want=$(jq -cn '[$ARGS.positional[] | split(":") | {fieldPath: .[0], order: .[1]}]' --args "$@")
	jq -e --arg c "$c" --arg s "$s" --argjson w "$want" \
	    'any(.indexes[]; .collectionGroup == $c and .queryScope == $s and .fields == $w)' "$IX" >/dev/null
}
tp_true "index: shadowTradeHistory status == OPEN order by created_at (the daemon's trades query)" \
    has_index shadowTradeHistory COLLECTION status:ASCENDING created_at:ASCENDING
tp_true "index: shadowTradeHistory status + created_at desc (the seed's)" \
    has_index shadowTradeHistory COLLECTION status:ASCENDING created_at:DESCENDING

# override COLLECTION FIELD SCOPE ORDER: a single-field index in that scope.
override() {
	jq -e --arg c "$1" --arg f "$2" --arg s "$3" --arg o "$4" \
	    'any(.fieldOverrides[]; .collectionGroup == $c and .fieldPath == $f
	     and any(.indexes[]; .queryScope == $s and .order == $o))' "$IX" >/dev/null
}
tp_true "override: collection-group index on shadowTradeHistory.status (the OPEN trades of all tenants)" \
    override shadowTradeHistory status COLLECTION_GROUP ASCENDING
tp_true "override: signals by timestamp, descending (the seed's feed)" \
    override signals timestamp COLLECTION DESCENDING
# An override replaces a field's automatic indexes: the collection-scope
# ones the other queries use must be listed again.
tp_eq "every override keeps the field's collection-scope ascending, descending and contains indexes" true \
    "$(tp_jq '.fieldOverrides | all(.indexes as $i
	    | (["ASCENDING", "DESCENDING"] | all(. as $o | $i | any(.queryScope == "COLLECTION" and .order == $o)))
	      and ($i | any(.queryScope == "COLLECTION" and .arrayConfig == "CONTAINS")))' "$ix")"
tp_finish
