import os

# PyMuPDF 2 imports its layout model's ONNX runtime, whose telemetry would print a warning line
# on standard error whenever the home folder is not writable; the tool's stderr is its own
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
