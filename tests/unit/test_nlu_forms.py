"""The per-form NLU gate: which form a message is in, the split of a mixed test file, the gate's verdict."""
import json

import pytest

from bot import quality
from bot.nlu.forms import EN, VI, VI_KHONG_DAU, cross_validation_by_form, form_of, read_examples, split, write


@pytest.mark.parametrize("text, form", [
    ("tôi muốn khiếu nại", VI),
    ("đơn hàng", VI),
    ("toi muon khieu nai don hang", VI_KHONG_DAU),
    ("ko dc", VI_KHONG_DAU),
    ("I want to file a complaint", EN),
    ("thanks a lot", EN),
    ("DH100015", None),
])
def test_form_of(text, form):
    assert form_of(text) == form


def test_split_places_undecided_lines_by_their_section(tmp_path):
    source = tmp_path / "mixed.yml"
    source.write_text(
        'version: "3.1"\nnlu:\n- intent: inform\n  examples: |\n'
        "    - DH100015\n    - mã đơn là DH100001\n    - bi mop hop\n    - ma don cua minh 100017\n"
        "    - DH100017\n    - order no. dh 100 006\n    - cracked\n"
        "- intent: deny\n  examples: |\n    - sai bét rồi\n    - hem phai\n    - nope, not right\n",
        encoding="utf-8",
    )
    by_form, guessed = split(read_examples(source))
    assert [t for _, t in by_form[VI]] == ["DH100015", "mã đơn là DH100001", "sai bét rồi"]
    assert [t for _, t in by_form[VI_KHONG_DAU]] == ["bi mop hop", "ma don cua minh 100017", "hem phai"]
    assert [t for _, t in by_form[EN]] == ["DH100017", "order no. dh 100 006", "cracked", "nope, not right"]
    assert len(guessed) == 5
    # What is written reads back the same.
    target = tmp_path / "vi.yml"
    write(target, by_form[VI], "# test")
    assert read_examples(target) == by_form[VI]


def test_cross_validation_figures_per_form(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "vi.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - chào\n    - xin chào\n', encoding="utf-8")
    (data / "en.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - hello\n', encoding="utf-8")
    results = tmp_path / "cv"
    results.mkdir()
    (results / "intent_successes.json").write_text(json.dumps([
        {"text": "chào", "intent": "greet", "intent_prediction": {"name": "greet"}},
        {"text": "hello", "intent": "greet", "intent_prediction": {"name": "greet"}},
    ]))
    (results / "intent_errors.json").write_text(json.dumps([
        {"text": "xin chào", "intent": "greet", "intent_prediction": {"name": "goodbye"}},
    ]))
    figures = cross_validation_by_form(results, data)
    assert figures[VI]["accuracy"] == 0.5 and figures[VI]["errors"] == {"greet": [("xin chào", "goodbye")]}
    assert figures[EN]["accuracy"] == 1.0 and figures[VI_KHONG_DAU]["n"] == 0


def _report(tmp_path, accuracy):
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps({
        "greet": {"precision": 1, "recall": 1, "f1-score": 1.0, "support": 9},
        "deny": {"precision": 1, "recall": 1, "f1-score": 0.5, "support": 3},
        "accuracy": accuracy,
        "macro avg": {"f1-score": 0.75},
        "weighted avg": {"f1-score": 0.9},
    }))
    return str(path)


def test_the_gate_is_accuracy_per_form(tmp_path, capsys):
    assert quality.main([_report(tmp_path, 0.951), "--form", "vi", "--min-accuracy", "0.95"]) == 0
    assert quality.main([_report(tmp_path, 0.949), "--form", "vi", "--min-accuracy", "0.95"]) == 1
    out = capsys.readouterr().out
    assert "NLU [vi] intent accuracy = 0.9490 (gate 0.95), macro F1 = 0.7500: FAILED" in out
    assert "weak intent: deny F1=0.500" in out
