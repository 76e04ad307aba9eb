"""Gate on `rasa test nlu` results, one written form at a time.

    python -m bot.quality results/nlu/vi/intent_report.json --form vi --min-accuracy 0.95

The gate is intent **accuracy** (share of held-out messages given the right
intent, `nlu_fallback` counting as wrong), the figure the issue measured and
the one a customer feels. Macro F1 is printed beside it: with 8-12 examples
per intent and form it swings with single messages, so it informs rather than
gates. Weak intents are listed to say where to look in the *training* data.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Tuple

_AVERAGES = ("macro avg", "weighted avg", "micro avg", "accuracy")


def figures(report: Dict) -> Tuple[float, float, List[Tuple[str, float, int]]]:
    """(accuracy, macro F1, [(intent, F1, support)]) from Rasa's intent_report.json."""
    intents = [
        (name, values["f1-score"], int(values.get("support") or 0))
        for name, values in report.items()
        if isinstance(values, dict) and "f1-score" in values and name not in _AVERAGES
    ]
    if "accuracy" in report:
        accuracy = float(report["accuracy"])
    else:
        # Rasa writes "micro avg" instead of "accuracy" when some predicted label has no test example.
        accuracy = float(report["micro avg"]["f1-score"])
    return accuracy, float(report["macro avg"]["f1-score"]), intents


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--form", default="all", help="label printed with the figures (vi, vi_khong_dau, en)")
    parser.add_argument("--min-accuracy", type=float, default=0.95)
    parser.add_argument("--weak-below", type=float, default=0.90, help="list intents whose F1 is below this")
    args = parser.parse_args(argv)
    with open(args.report, encoding="utf-8") as fh:
        accuracy, macro_f1, intents = figures(json.load(fh))
    for name, f1, support in sorted(intents):
        if f1 < args.weak_below and support:
            print(f"  [{args.form}] weak intent: {name} F1={f1:.3f} (n={support})")
    passed = accuracy >= args.min_accuracy
    print(f"NLU [{args.form}] intent accuracy = {accuracy:.4f} (gate {args.min_accuracy:.2f}), "
          f"macro F1 = {macro_f1:.4f}: {'ok' if passed else 'FAILED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
