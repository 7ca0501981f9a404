#!/usr/bin/env python3
# tests/integration/promparse.py: reads the Prometheus text format on stdin with the official client's parser; prints the samples as JSON (metrics.sh, alerts.sh).
"""Parse with prometheus_client (a real parser), then check what only a
parser sees: every family has its HELP and TYPE, histogram buckets are
cumulative with le="+Inf" equal to _count. Prints
{"families": {name: {"type", "help"}},
 "samples": [{"name", "labels", "value"}]}; exit 1 with the reason on
stderr when the text does not parse or is inconsistent."""
import json
import math
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.stderr.write("python3-prometheus-client is not installed\n")
    sys.exit(77)


def main():
    text = sys.stdin.read()
    fams = {}
    samples = []
    try:
        for fam in text_string_to_metric_families(text):
            fams[fam.name] = {"type": fam.type, "help": fam.documentation}
            for s in fam.samples:
                samples.append({"name": s.name, "labels": dict(s.labels),
                                "value": s.value})
    except Exception as e:  # the parser's own error, said as it is
        sys.stderr.write("parse error: %s\n" % e)
        return 1
    # histograms: per label set, buckets non-decreasing in le, +Inf == count
    for name, f in fams.items():
        if f["type"] != "histogram":
            continue
        groups = {}
        for s in samples:
            if s["name"] not in (name + "_bucket", name + "_count"):
                continue
            key = tuple(sorted((k, v) for k, v in s["labels"].items()
                               if k != "le"))
            g = groups.setdefault(key, {"buckets": [], "count": None})
            if s["name"].endswith("_count"):
                g["count"] = s["value"]
            else:
                g["buckets"].append((float(s["labels"]["le"]), s["value"]))
        for key, g in groups.items():
            b = sorted(g["buckets"])
            if not b or not math.isinf(b[-1][0]):
                sys.stderr.write("%s%s: no +Inf bucket\n" % (name, key))
                return 1
            for (l0, v0), (l1, v1) in zip(b, b[1:]):
                if v1 < v0:
                    sys.stderr.write("%s%s: bucket le=%s (%s) < le=%s (%s)\n"
                                     % (name, key, l1, v1, l0, v0))
                    return 1
            if g["count"] != b[-1][1]:
                sys.stderr.write("%s%s: +Inf bucket %s != count %s\n"
                                 % (name, key, b[-1][1], g["count"]))
                return 1
    json.dump({"families": fams, "samples": samples}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
