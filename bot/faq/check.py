"""`python -m bot faq check`: everything an editor must fix, as `file:line: message`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from bot.faq.index import FaqIndex
from bot.faq.loader import FaqEntry, FaqProblem, duplicate_id_problems, faq_files, link_warnings, load_file


# Two example questions this similar read as the same question to the search.
# On the index's question vectors (word and character n-grams, per-entry IDF):
# a reworded near-duplicate scores 0.7 or more; the closest pairs of distinct
# questions in today's faq/ (the same product words, different requests) stay below.
CHECK_SIMILARITY = 0.65


def check_directory(directory: Path) -> Tuple[List[FaqProblem], List[FaqProblem]]:
    """(errors, warnings). Errors break the FAQ or make two entries answer each other's
    questions; warnings are single questions that lean towards another entry."""
    problems: List[FaqProblem] = []
    warnings: List[FaqProblem] = []
    entries: List[FaqEntry] = []
    files = faq_files(directory) if directory.is_dir() else []
    if not files:
        return [FaqProblem(str(directory), 1, "no FAQ files (*.yml) found")], []
    for path in files:
        result = load_file(path, display_name=str(path))
        problems.extend(result.problems)
        entries.extend(result.entries)
    problems.extend(duplicate_id_problems(entries))
    for entry in entries:
        warnings.extend(link_warnings(entry))
    confusions = FaqIndex(entries).confusions(CHECK_SIMILARITY)
    pairs = {(entry.id, other.id) for entry, _, other, _ in confusions}
    for entry, question, other, score in confusions:
        mutual = (other.id, entry.id) in pairs
        (problems if mutual else warnings).append(
            FaqProblem(
                entry.file,
                _question_line(entry, question),
                f"question {question!r} of '{entry.id}' is answered by '{other.id}' ({other.file}:{other.line}, "
                f"similarity {score:.2f})"
                + ("; the two entries answer each other's questions: make them distinct or merge them" if mutual
                   else "; consider rewording it"),
            )
        )
    return problems, warnings


def _question_line(entry: FaqEntry, question: str) -> int:
    try:
        lines = Path(entry.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return entry.line
    for number, line in enumerate(lines[entry.line - 1:], start=entry.line):
        if question in line:
            return number
    return entry.line
