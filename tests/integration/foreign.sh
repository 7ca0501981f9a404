#!/usr/bin/env bash
# tests/integration/foreign.sh: a worker that returns a write for another tenant: the write is rejected, nothing of it reaches the store, the event is logged, the tenant is struck and quarantined.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tp_init foreign

STRIKES=2
# worker/faults.c aims the foreign write at users/victim/data/snapshot.
VICTIMS=(victim v2 v3 v4 v5)

tp_need_workers faults || tp_finish
# The faulty tenant shares its batch with the others.
tp_worker_config workers.batch_size=32 workers.max_workers=2 workers.max_strikes=$STRIKES \
    workers.backoff_max=200ms workers.crash_rate=1000
export TP_FAULTS=evil=foreign
tp_keygen
if ! tp_start; then
	tp_fail "tradepulsed -d starts with workers configured"
	tp_finish
fi
printf '%s\n' "${VICTIMS[@]}" evil >"$T/uids"
tp_add_tenants "$T/uids" || tp_finish
tenants_before=$(tp_sql "SELECT DISTINCT tenant FROM docs WHERE tenant IS NOT NULL ORDER BY tenant")

tp_log "sync evil (fault: foreign) with ${VICTIMS[*]}, in one batch"
tp_submit "$T/uids" "$T/jobs"
tp_eq "every sync request was accepted" 0 "$(awk '$2 == "-"' "$T/jobs" | wc -l)"
tp_jobs_wait "$T/jobs" "$T/ended" 60 ||
    tp_fail "every job ends within 60s" "pending: $(tr '\n' ' ' <"$T/.jobs.pending")"
tp_jobs_final "$T/ended" >"$T/final"

tp_log "nothing of the foreign write reached the store"
tp_eq "no document holds the foreign write (its \"fault\" field)" "" \
    "$(tp_sql "SELECT path FROM docs WHERE json_extract(data, '\$.fault') IS NOT NULL")"
tp_eq "users/victim/data/snapshot is victim's own (its account's equity)" 1 \
    "$(tp_sql "SELECT count(*) FROM docs WHERE path = 'users/victim/data/snapshot' AND json_extract(data, '\$.equity') IS NOT NULL")"
tp_eq "evil has no snapshot" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path = 'users/evil/data/snapshot'")"
tp_eq "no document of a tenant that was not added" "$tenants_before" \
    "$(tp_sql "SELECT DISTINCT tenant FROM docs WHERE tenant IS NOT NULL ORDER BY tenant")"
tp_eq "no document outside users/ and ops/" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path NOT LIKE 'users/%' AND path NOT LIKE 'ops/%'")"
tp_eq "no ops/ document but crash reports" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path LIKE 'ops/%' AND path NOT LIKE 'ops/crashes/reports/%'")"

tp_log "the faulty tenant"
read -r _ _ state _ code _ <<<"$(awk '$2 == "evil"' "$T/final")"
tp_eq "evil's job failed" failed "$state"
tp_ne "evil's job says why" - "${code:--}"
tp_eq "evil's own write was not committed either (no last_sync)" "" \
    "$(tp_sql "SELECT path FROM docs WHERE path = 'users/evil/status/last_sync'")"
tp_file_lacks "evil's log has no commit" "committed job" "$T/log/tenants/evil.log"
q=$(tp_sql "SELECT data FROM docs WHERE path = 'users/evil/status/quarantine'")
tp_ne "evil is quarantined" "" "$q"
tp_eq "evil was struck $STRIKES times" "$STRIKES" "$(tp_jq .strikes "$q")"
tp_ne "evil has a last_sync_error" "" "$(tp_sql "SELECT data FROM docs WHERE path = 'users/evil/status/last_sync_error'")"
tp_match "the daemon log has the security event, naming evil" \
    '[Ss]ecurity[^'$'\n'']*evil|evil[^'$'\n'']*[Ss]ecurity' "$(cat "$T/daemon.log")"
tp_jcli status
tp_true "status counts the security events ($(tp_jq .result.jobs.security_events "$OUT"))" \
    test "$(tp_jq .result.jobs.security_events "$OUT")" -ge 1

tp_log "the others"
for u in "${VICTIMS[@]}"; do
	read -r job _ state _ <<<"$(awk -v u="$u" '$2 == u' "$T/final")"
	tp_eq "$u's job is done" "done" "$state"
	tp_has "$u's last_sync names its job" "\"job_id\":\"$job\"" \
	    "$(tp_sql "SELECT data FROM docs WHERE path = 'users/$u/status/last_sync'")"
	tp_eq "$u is not quarantined" "" "$(tp_sql "SELECT path FROM docs WHERE path = 'users/$u/status/quarantine'")"
done

tp_true "the daemon is alive" tp_alive "$TPD_PID"
tp_stop TERM
tp_eq "SIGTERM: exit 0" 0 "$TPD_RC"
tp_finish
