"""Precision and recall of `check` against the hand-labelled gold findings of the samples."""

from conftest import ROOT

from pipeline.evaluate import evaluate, load_labels
from pipeline.run import check_file


def _samples(result):
    return [d for d in result.docs if (ROOT / "samples" / d.source).exists()]


def test_gold_precision_and_recall():
    result = evaluate(ROOT / "eval" / "labels", ROOT / "samples", lambda p: check_file(p).result)
    report = result.as_text()
    samples = _samples(result)
    assert len(samples) == 4, report
    assert sum(d.gold for d in samples) >= 12, report
    assert all(d.recall == 1.0 and d.precision == 1.0 for d in samples), report


def test_no_error_finding_is_only_rounding():
    result = evaluate(ROOT / "eval" / "labels", ROOT / "samples", lambda p: check_file(p).result)
    for d in _samples(result):
        assert d.rounding_errors == [], [f.message for f in d.rounding_errors]


def test_labels_are_well_formed():
    for path, labels in load_labels(ROOT / "eval" / "labels"):
        assert (ROOT / "samples" / labels.source).exists() or (
            path.parent / labels.source).exists(), path
        ids = [g.id for g in labels.findings]
        assert len(ids) == len(set(ids))
        assert all(g.severity in ("error", "warning") and g.pages and g.note
                   for g in labels.findings)
