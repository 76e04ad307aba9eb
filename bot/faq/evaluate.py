"""Top-1 accuracy of FAQ retrieval on a held-out paraphrase set (`make faq-eval`).

The set (tests/faq/paraphrases.yml) is never read by the index:
    - id: delivery-time
      vi: ["..."]            # with diacritics
      vi_khong_dau: ["..."]  # without
      en: ["..."]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from bot.faq.library import FaqLibrary
from bot.services.faq import decide

FORMS = ("vi", "vi_khong_dau", "en")


@dataclass
class EvalResult:
    total: Dict[str, int] = field(default_factory=dict)
    top1: Dict[str, int] = field(default_factory=dict)
    answered: Dict[str, int] = field(default_factory=dict)
    misses: List[Tuple[str, str, str, str]] = field(default_factory=list)

    def accuracy(self, form: str) -> float:
        return self.top1.get(form, 0) / self.total[form] if self.total.get(form) else 0.0


def evaluate(faq_dir: Path, paraphrases: Path) -> EvalResult:
    library = FaqLibrary(faq_dir)
    cases = yaml.safe_load(paraphrases.read_text(encoding="utf-8")) or []
    result = EvalResult()
    for case in cases:
        for form in FORMS:
            for text in case.get(form, []) or []:
                matches = library.search(text, limit=4)
                predicted = matches[0].entry.id if matches else "-"
                result.total[form] = result.total.get(form, 0) + 1
                if predicted == case["id"]:
                    result.top1[form] = result.top1.get(form, 0) + 1
                    if decide(matches).kind == "answer":
                        result.answered[form] = result.answered.get(form, 0) + 1
                else:
                    result.misses.append((form, case["id"], predicted, text))
    return result


def write_report(result: EvalResult, path: Path, faq_dir: Path, paraphrases: Path) -> None:
    from datetime import datetime, timezone

    from bot.faq.library import FaqLibrary

    library = FaqLibrary(faq_dir)
    questions = sum(len(e.question_lines()) for e in library.entries)
    lines = [
        "# FAQ retrieval accuracy",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `make faq-eval`: {len(library.entries)} entries, "
        f"{questions} example questions in `faq/`, held-out paraphrases in `{paraphrases.name}` "
        "(never read by the index). Top-1: the right entry ranked first. Answered directly: ranked first "
        "and confident enough to answer without a \"did you mean\" choice.",
        "",
        "| form | paraphrases | top-1 | answered directly |",
        "|---|---:|---:|---:|",
    ]
    for form in FORMS:
        total = result.total.get(form, 0)
        answered = result.answered.get(form, 0) / total if total else 0.0
        lines.append(f"| {form} | {total} | {result.accuracy(form):.1%} | {answered:.1%} |")
    lines += ["", "`make test` fails when any form's top-1 falls below `FAQ_MIN_TOP1` (90%). "
              "`python -m bot faq cv` gives the same measure on the example questions themselves, "
              "each fifth held out in turn, without this file.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def cross_validate(faq_dir: Path, folds: int = 5) -> EvalResult:
    """Top-1 accuracy on the FAQ's own example questions, each fold held out in turn.

    Needs no held-out file, so an editor can see whether a change made the
    entries easier or harder to tell apart. Vietnamese questions are also
    asked with their diacritics removed (the `vi_khong_dau` form).
    """
    from dataclasses import replace

    from bot.faq.index import FaqIndex
    from bot.text import fold

    entries = FaqLibrary(faq_dir).entries
    # Every question with its place: fold k holds questions number k, k+folds, ... of each entry and language.
    cases = [(e, lang, n, q) for e in entries for lang in ("vi", "en") for n, q in enumerate(e.questions.get(lang, ()))]
    result = EvalResult()
    for k in range(folds):
        training = [
            replace(e, questions={lang: tuple(q for n, q in enumerate(qs) if n % folds != k)
                                  for lang, qs in e.questions.items()})
            for e in entries
        ]
        index = FaqIndex(training)
        for entry, lang, n, text in cases:
            if n % folds != k:
                continue
            asked = [(lang, text)] + ([("vi_khong_dau", fold(text))] if lang == "vi" else [])
            for form, question in asked:
                matches = index.search(question, limit=1)
                predicted = matches[0].entry.id if matches else "-"
                result.total[form] = result.total.get(form, 0) + 1
                if predicted == entry.id:
                    result.top1[form] = result.top1.get(form, 0) + 1
                else:
                    result.misses.append((form, entry.id, predicted, question))
    return result
