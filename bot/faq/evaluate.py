"""Top-1 accuracy of FAQ retrieval on a held-out paraphrase set (`make faq-eval`).

The set (tests/faq/paraphrases.yml) is never read by the index:
    - id: delivery-time
      vi: ["..."]            # with diacritics
      vi_khong_dau: ["..."]  # without
      en: ["..."]

The new-entry gate adds entries written for the test (tests/faq/new_entries.yml,
2-3 questions each) to a copy of faq/, and scores paraphrases of those entries
written by someone else: an editor's new topic must work from its first questions.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

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


@contextmanager
def faq_with(faq_dir: Path, added: Optional[Path]) -> Iterator[Path]:
    """faq/ itself, or a throw-away copy of it with one more file of entries."""
    if added is None:
        yield faq_dir
        return
    with tempfile.TemporaryDirectory(prefix="faq-eval-") as tmp:
        copy = Path(tmp) / "faq"
        shutil.copytree(faq_dir, copy)
        shutil.copyfile(added, copy / f"zz-added-{added.stem}.yml")
        yield copy


def evaluate(faq_dir: Path, paraphrases: Path, added: Optional[Path] = None) -> EvalResult:
    with faq_with(faq_dir, added) as directory:
        # Never looks at the files again: the copy is gone once this block ends.
        library = FaqLibrary(directory, check_interval=float("inf"))
        problems = list(library.problems)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
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
            if n % folds == k:
                _score_held_out(index, entry, lang, text, result)
    return result


def _score_held_out(index, entry, lang: str, text: str, result: EvalResult) -> None:
    """One held-out example question, asked as written and (Vietnamese) without diacritics."""
    from bot.text import fold

    asked = [(lang, text)] + ([("vi_khong_dau", fold(text))] if lang == "vi" else [])
    for form, question in asked:
        matches = index.search(question, limit=1)
        predicted = matches[0].entry.id if matches else "-"
        result.total[form] = result.total.get(form, 0) + 1
        if predicted == entry.id:
            result.top1[form] = result.top1.get(form, 0) + 1
        else:
            result.misses.append((form, entry.id, predicted, question))


def few_shot_cross_validate(faq_dir: Path, folds: int = 5, keep_vi: int = 2, keep_en: int = 1) -> Tuple[EvalResult, EvalResult]:
    """How an entry with only its first questions fares among full entries: (new, existing).

    Fold k keeps only the first `keep_vi` Vietnamese and `keep_en` English questions of every
    k-th entry (as an editor's new entry would have) and scores their other questions; the
    other entries lose their k-th fifth of questions as in `cross_validate`, and those are
    scored too, so a gain for new entries that costs the existing ones shows. Uses only the
    FAQ's own questions, never a held-out set.
    """
    from bot.faq.index import FaqIndex

    entries = FaqLibrary(faq_dir).entries
    kept = {"vi": keep_vi, "en": keep_en}
    new, existing = EvalResult(), EvalResult()
    for k in range(folds):
        is_new = [i % folds == k for i in range(len(entries))]
        training = [
            replace(e, questions={lang: qs[:kept[lang]] for lang, qs in e.questions.items()}) if is_new[i]
            else replace(e, questions={lang: tuple(q for n, q in enumerate(qs) if n % folds != k)
                                       for lang, qs in e.questions.items()})
            for i, e in enumerate(entries)
        ]
        index = FaqIndex(training)
        for i, entry in enumerate(entries):
            result = new if is_new[i] else existing
            for lang in ("vi", "en"):
                for n, text in enumerate(entry.questions.get(lang, ())):
                    held_out = n >= kept[lang] if is_new[i] else n % folds == k
                    if held_out:
                        _score_held_out(index, entry, lang, text, result)
    return new, existing
