"""A fast start: reading a report loads PyMuPDF, not the layout model and runtime its wheel
brings along (an ONNX model, onnxruntime, numpy), which the project never uses."""

import subprocess
import sys

from conftest import ROOT


def test_reading_a_report_does_not_load_the_layout_model():
    code = ("import sys; from pathlib import Path; from pipeline.segment import segment; "
            f"segment(Path({str(ROOT / 'samples' / '000_3feb2deca3ba0fbc.pdf')!r})); "
            "print(sorted({m.split('.')[0] for m, v in sys.modules.items() if v is not None} & "
            "{'onnxruntime', 'numpy', 'pymupdf4llm'}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout
    assert "pymupdf_layout" not in run.stderr and "Consider using" not in run.stderr
