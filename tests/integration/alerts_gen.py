#!/usr/bin/env python3
# tests/integration/alerts_gen.py: turns /metrics scrapes of a real run (promparse.py's JSON) into a `promtool test rules` file for etc/prometheus/tradepulse-alerts.yml (alerts.sh).
"""usage: alerts_gen.py RULES FRESH AFTER_PULSE THROTTLED INSTANCE > test.json

FRESH, AFTER_PULSE, THROTTLED: promparse.py output of three scrapes of one
run (a fresh daemon; after a pulse with failed tenants, a crash and a
quarantine; while spawning was throttled), each with "scraped_at" (unix
seconds) added. The test file is JSON (which YAML reads). Each group
replays the real values on a one-minute scrape interval; each expected
alert's annotations are the rule's, with {{ $labels.instance }} filled in.
Exit 1 (saying why) when the run's values cannot make the alerts fire: the
test needs a run where they do."""
import json
import sys

import yaml

JOB = "tradepulse"


def val(scrape, name, **labels):
    for s in scrape["samples"]:
        if s["name"] == name and all(s["labels"].get(k) == v
                                     for k, v in labels.items()):
            return s["value"]
    raise SystemExit("no sample %s%s in a scrape" % (name, labels))


def series(name, values, instance, **labels):
    lab = dict(labels, instance=instance, job=JOB)
    sel = ",".join('%s="%s"' % (k, v) for k, v in sorted(lab.items()))
    return {"series": "%s{%s}" % (name, sel),
            "values": " ".join(fmt(v) for v in values)}


def fmt(v):
    if v is None:
        return "_"
    return repr(float(v)) if v != int(v) else str(int(v))


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    rules_path, fresh, after, thr, instance = sys.argv[1:]
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    s0, s1, s2 = (json.load(open(p)) for p in (fresh, after, thr))
    ann = {}
    labels = {}
    for g in rules["groups"]:
        for r in g["rules"]:
            ann[r["alert"]] = {k: v.replace("{{ $labels.instance }}",
                                            instance)
                               for k, v in r.get("annotations", {}).items()}
            labels[r["alert"]] = r.get("labels", {})

    def alert(name, **extra):
        lab = dict(labels[name], **extra)
        return {"exp_labels": lab, "exp_annotations": ann[name]}

    def at(name, minutes, alerts):
        return {"eval_time": "%dm" % minutes, "alertname": name,
                "exp_alerts": alerts}

    tests = []
    inst = {"instance": instance, "job": JOB}

    # 1. A pulse with failed tenants and a quarantine, 5 minutes in:
    # minutes 0-4 the fresh daemon's counters, then the real counts after
    # the pulse.
    ok0 = val(s0, "tradepulse_tenant_syncs_total", outcome="ok")
    er0 = val(s0, "tradepulse_tenant_syncs_total", outcome="error")
    ok1 = val(s1, "tradepulse_tenant_syncs_total", outcome="ok")
    er1 = val(s1, "tradepulse_tenant_syncs_total", outcome="error")
    q0 = val(s0, "tradepulse_quarantines_total")
    q1 = val(s1, "tradepulse_quarantines_total")
    if not (er1 - er0) / max(1, (ok1 + er1) - (ok0 + er0)) > 0.1:
        raise SystemExit("the run's pulse had no more than 10 %% errors "
                         "(ok %s, error %s)" % (ok1 - ok0, er1 - er0))
    if not q1 > q0:
        raise SystemExit("the run quarantined no tenant")
    steps = lambda a, b: [a] * 5 + [b] * 26
    tests.append({
        "interval": "1m",
        "input_series": [
            series("tradepulse_tenant_syncs_total", steps(ok0, ok1),
                   instance, outcome="ok"),
            series("tradepulse_tenant_syncs_total", steps(er0, er1),
                   instance, outcome="error"),
            series("tradepulse_quarantines_total", steps(q0, q1), instance),
        ],
        "alert_rule_test": [
            at("TradepulseSyncErrors", 4, []),
            at("TradepulseSyncErrors", 10, [alert("TradepulseSyncErrors",
                                                  **inst)]),
            at("TradepulseSyncErrors", 25, []),	# 15 min without errors
            at("TradepulseQuarantine", 4, []),
            at("TradepulseQuarantine", 10, [alert("TradepulseQuarantine",
                                                  **inst)]),
            at("TradepulseQuarantine", 25, []),
        ],
    })

    # 2. No pulse after the real one: its finish time, the interval and the
    # uptime as scraped, moved to test time (the scrape at minute 5), then
    # four hours of scrapes with nothing new.
    iv = val(s1, "tradepulse_pulse_interval_seconds")
    last = val(s1, "tradepulse_last_pulse_finished_timestamp_seconds")
    up1 = val(s1, "tradepulse_uptime_seconds")
    paused = val(s1, "tradepulse_paused")
    if iv <= 0 or last <= 0:
        raise SystemExit("the run had no pulse schedule or no pulse "
                         "(interval %s, last %s)" % (iv, last))
    n = 241
    last_t = last - s1["scraped_at"] + 300
    last_series = [0] * 5 + [last_t] * (n - 5)
    up_series = [max(0, up1 + 60 * (i - 5)) for i in range(n)]
    no_pulse_at = int((last_t + 3 * iv) // 60) + 2	# minutes
    if no_pulse_at >= n:
        raise SystemExit("interval %s s: the test would need more than "
                         "four hours" % iv)
    common = [
        series("tradepulse_last_pulse_finished_timestamp_seconds",
               last_series, instance),
        series("tradepulse_pulse_interval_seconds", [iv] * n, instance),
        series("tradepulse_uptime_seconds", up_series, instance),
    ]
    tests.append({
        "interval": "1m",
        "input_series": common + [
            series("tradepulse_paused", [paused] * n, instance)],
        "alert_rule_test": [
            at("TradepulseNoPulse", 30, []),
            at("TradepulseNoPulse", no_pulse_at - 10, []),
            at("TradepulseNoPulse", no_pulse_at,
               [alert("TradepulseNoPulse", **inst)]),
        ],
    })
    # ... and paused (the pause op's gauge at 1): no NoPulse alert
    tests.append({
        "interval": "1m",
        "input_series": common + [
            series("tradepulse_paused", [1] * n, instance)],
        "alert_rule_test": [at("TradepulseNoPulse", no_pulse_at, [])],
    })

    # 3. Throttled: the fresh daemon's gauge for 5 minutes (right after
    # the pulse's crashes the pool may still be backing off), then the
    # throttled scrape's; it fires once it has lasted 2 minutes.
    t1 = val(s0, "tradepulse_workers_throttled")
    t2 = val(s2, "tradepulse_workers_throttled")
    if t1 != 0 or t2 != 1:
        raise SystemExit("throttled gauge %s then %s, not 0 then 1"
                         % (t1, t2))
    tests.append({
        "interval": "1m",
        "input_series": [series("tradepulse_workers_throttled",
                                [t1] * 5 + [t2] * 10, instance)],
        "alert_rule_test": [
            at("TradepulseWorkersThrottled", 4, []),
            at("TradepulseWorkersThrottled", 6, []),	# pending
            at("TradepulseWorkersThrottled", 8,
               [alert("TradepulseWorkersThrottled", **inst)]),
        ],
    })

    # 4. Down: up as Prometheus records it (1 while the scrapes of the run
    # answered, 0 after the daemon stopped), then no target at all.
    tests.append({
        "interval": "1m",
        "input_series": [series("up", [1] * 5 + [0] * 10, instance)],
        "alert_rule_test": [
            at("TradepulseDown", 4, []),
            at("TradepulseDown", 7, [alert("TradepulseDown", **inst)]),
            at("TradepulseAbsent", 7, []),
        ],
    })
    tests.append({
        "interval": "1m",
        "input_series": [{"series": 'up{job="other",instance="x:1"}',
                          "values": "1x10"}],
        "alert_rule_test": [
            at("TradepulseAbsent", 3, []),
            at("TradepulseAbsent", 7, [alert("TradepulseAbsent",
                                             job=JOB)]),
        ],
    })
    json.dump({"rule_files": [rules_path], "evaluation_interval": "1m",
               "tests": tests}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
