"""Gate on `rasa test nlu` results: fail when intent macro F1 is below the bar.

    python -m bot.quality results/nlu/intent_report.json --min-macro-f1 0.90
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--min-macro-f1", type=float, default=0.90)
    args = parser.parse_args(argv)
    with open(args.report, encoding="utf-8") as fh:
        report = json.load(fh)
    macro = report["macro avg"]["f1-score"]
    weak = sorted(
        (name, values["f1-score"])
        for name, values in report.items()
        if isinstance(values, dict) and "f1-score" in values and name not in ("macro avg", "weighted avg", "micro avg")
        and values["f1-score"] < args.min_macro_f1
    )
    for name, f1 in weak:
        print(f"  weak intent: {name} F1={f1:.3f}")
    verdict = "ok" if macro >= args.min_macro_f1 else "FAILED"
    print(f"NLU intent macro F1 = {macro:.4f} (gate {args.min_macro_f1:.2f}): {verdict}")
    return 0 if macro >= args.min_macro_f1 else 1


if __name__ == "__main__":
    sys.exit(main())
