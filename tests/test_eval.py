"""Precision and recall of `check` against the hand-labelled gold findings of the samples."""

from conftest import ROOT

from pipeline.evaluate import evaluate, load_labels
from pipeline.run import check_file

GOAL = 0.90


def test_gold_precision_and_recall():
    result = evaluate(ROOT / "eval" / "labels", ROOT / "samples", lambda p: check_file(p).result)
    report = result.as_text()
    assert len(result.docs) == 4, report
    assert sum(d.gold for d in result.docs) >= 12, report
    assert result.recall >= GOAL, report
    assert result.precision >= GOAL, report


def test_no_error_finding_is_only_rounding():
    result = evaluate(ROOT / "eval" / "labels", ROOT / "samples", lambda p: check_file(p).result)
    for d in result.docs:
        assert d.rounding_errors == [], [f.message for f in d.rounding_errors]


def test_labels_are_well_formed():
    for path, labels in load_labels(ROOT / "eval" / "labels"):
        assert (ROOT / "samples" / labels.source).exists(), path
        ids = [g.id for g in labels.findings]
        assert len(ids) == len(set(ids))
        assert all(g.severity in ("error", "warning") and g.pages and g.note
                   for g in labels.findings)
