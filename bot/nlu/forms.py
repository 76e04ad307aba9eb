"""Which written form a customer message is in: Vietnamese with diacritics, without them, or English.

The NLU gate is per form (a model can be good on average and poor on the form
most customers type), so test sets and cross-validation results are split with
this one reading:

    python -m bot.nlu.forms split tests/nlu/test_nlu.yml --out tests/nlu

writes test_nlu_vi.yml, test_nlu_vi_khong_dau.yml and test_nlu_en.yml and
prints the lines it had to guess, to be checked by eye.

    rasa test nlu --nlu data/nlu --cross-validation --successes --out results/cv
    python -m bot.nlu.forms cv results/cv --data data/nlu

gives cross-validation accuracy per form (a training example's form is its
file's: data/nlu/vi.yml, vi_khong_dau.yml, en.yml), the figure to steer the
training data by, since the held-out sets must not be tuned against.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.text import _VI_LETTERS, detect_language, nfc

VI = "vi"
VI_KHONG_DAU = "vi_khong_dau"
EN = "en"
FORMS = (VI, VI_KHONG_DAU, EN)

_WORD = re.compile(r"[a-z']+")
# Chat words that tell Vietnamese typed without diacritics from English when
# bot.text.detect_language (built for whole conversations) abstains.
_VI_HINTS = set(
    """a ah ak ad alo bn bt cam chuan ck cx da dc di dung e gui ha hen hic hok hong j ji k kh khg kg ko luon m mk
    mn nha nhe nhi oke okela oi r ròi roi sp t thui thoi uhm um vs vl z zay""".split()
)
_EN_HINTS = set(
    """alright any anyone around at bye catch does done fine from go great guys hey hi hmm how i'm it's just
    let me nah nope ok okay on ooh oops right see so sorry that's thx ty u ur what's where's will yo you""".split()
)


def form_of(text: str) -> Optional[str]:
    """vi, vi_khong_dau or en; None when a short message gives no evidence (the caller decides)."""
    text = nfc(text).lower()
    if any(ch in _VI_LETTERS for ch in text):
        return VI
    language = detect_language(text)
    if language == "en":
        return EN
    if language == "vi":
        return VI_KHONG_DAU
    tokens = _WORD.findall(text)
    vi = sum(t in _VI_HINTS for t in tokens)
    en = sum(t in _EN_HINTS for t in tokens)
    if vi > en:
        return VI_KHONG_DAU
    if en > vi:
        return EN
    return None


_INTENT = re.compile(r"^- intent:\s*(\S+)\s*$")
_EXAMPLE = re.compile(r"^\s+- (.*)$")


def read_examples(path: Path) -> List[Tuple[str, str]]:
    """(intent, example) pairs of a Rasa NLU file with plain examples (no entity markup is used here)."""
    pairs: List[Tuple[str, str]] = []
    intent = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _INTENT.match(line)
        if match:
            intent = match.group(1)
            continue
        match = _EXAMPLE.match(line)
        if intent and match and not line.lstrip().startswith("- intent"):
            pairs.append((intent, match.group(1)))
    return pairs


_NEUTRAL = re.compile(r"^(?:dh|kn|\W|\d|-)*$")


def split(pairs: List[Tuple[str, str]]) -> Tuple[Dict[str, List[Tuple[str, str]]], List[str]]:
    """Examples by form; the lines form_of cannot tell are decided by where they stand.

    The mixed test file lists each intent's examples with diacritics, then
    without, then English. An order number or a code alone belongs to the
    section it opens (the next decided line); other undecided words to the
    section they close (the line before), and plain ASCII is never the form
    with diacritics.
    """
    forms: List[Optional[str]] = [form_of(text) for _, text in pairs]
    guessed: List[str] = []
    decided = list(forms)
    for i, (intent, text) in enumerate(pairs):
        if forms[i] is not None:
            continue
        before = next((decided[j] for j in range(i - 1, -1, -1) if pairs[j][0] == intent and decided[j]), None)
        after = next((forms[j] for j in range(i + 1, len(pairs)) if pairs[j][0] == intent and forms[j]), None)
        if _NEUTRAL.match(text.lower().replace(" ", "")):
            form = after or before or VI_KHONG_DAU
        else:
            form = before or after or VI_KHONG_DAU
            form = VI_KHONG_DAU if form == VI else form
        decided[i] = form
        guessed.append(f"{form:<13} {intent:<20} {text}")
    out: Dict[str, List[Tuple[str, str]]] = {form: [] for form in FORMS}
    for (intent, text), form in zip(pairs, decided):
        out[form].append((intent, text))
    return out, guessed


def write(path: Path, examples: List[Tuple[str, str]], header: str) -> None:
    lines = [header, 'version: "3.1"', "", "nlu:"]
    intent = None
    for name, text in examples:
        if name != intent:
            if intent is not None:
                lines.append("")
            lines += [f"- intent: {name}", "  examples: |"]
            intent = name
        lines.append(f"    - {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cross_validation_by_form(results: Path, data: Path) -> Dict[str, Dict[str, object]]:
    """{form: {"accuracy": float, "n": int, "errors": {intent: [(text, predicted)]}}} from a --successes run."""
    origin: Dict[str, str] = {}
    for form in FORMS:
        path = data / f"{form}.yml"
        if path.exists():
            for _, text in read_examples(path):
                origin[text] = form
    rows = []
    for name, ok in (("intent_successes.json", True), ("intent_errors.json", False)):
        path = results / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                rows.append((item["text"], item["intent"], (item.get("intent_prediction") or {}).get("name"), ok))
    out: Dict[str, Dict[str, object]] = {}
    for form in FORMS:
        mine = [r for r in rows if (origin.get(r[0]) or form_of(r[0]) or VI_KHONG_DAU) == form]
        errors: Dict[str, List[Tuple[str, str]]] = {}
        for text, intent, predicted, ok in mine:
            if not ok:
                errors.setdefault(intent, []).append((text, predicted))
        right = sum(1 for r in mine if r[3])
        out[form] = {"accuracy": right / len(mine) if mine else 0.0, "n": len(mine), "errors": errors}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu.forms")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("split", help="split a mixed NLU test file into one file per form")
    cmd.add_argument("source", type=Path)
    cmd.add_argument("--out", type=Path, required=True)
    cv = sub.add_parser("cv", help="cross-validation accuracy per form")
    cv.add_argument("results", type=Path)
    cv.add_argument("--data", type=Path, default=Path("data/nlu"))
    cv.add_argument("--errors", action="store_true", help="list the misread training examples")
    args = parser.parse_args(argv)
    if args.command == "cv":
        for form, figures in cross_validation_by_form(args.results, args.data).items():
            print(f"cross-validation [{form}] accuracy {figures['accuracy']:.4f} (n={figures['n']})")
            if args.errors:
                for intent, misses in sorted(figures["errors"].items()):
                    for text, predicted in misses:
                        print(f"    {intent:<20} -> {predicted:<20} {text}")
        return 0
    by_form, guessed = split(read_examples(args.source))
    for form, examples in by_form.items():
        target = args.out / f"{args.source.stem}_{form}.yml"
        header = (f"# Held-out NLU test set, form {form}: split from {args.source.name} by bot/nlu/forms.py. "
                  "Never copy these into data/.")
        write(target, examples, header)
        print(f"{target}: {len(examples)} examples")
    for line in guessed:
        print(f"  guessed: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
