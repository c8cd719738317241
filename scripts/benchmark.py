"""Benchmark: Budget Lens stages beside PyMuPDF's own text extraction, samples and corpus.

Run with `make bench`. Prints per sample the seconds per page of
  - floor:     PyMuPDF page.get_text("dict") on every page (the least any PDF reader must do),
  - segment:   Budget Lens segmentation (PDF -> document model),
  - check:     the whole `check` pipeline (segment, extract, check), when available,
  - plumber:   pdfplumber extract_tables() on every page, when pdfplumber is installed,
and the ratios against the floor. Timings are the best of --repeat runs in this one process.
Then, as whole processes (CPU of the child, best of --repeat): `budget-lens --version` and
`check` on a sample against a script that only imports PyMuPDF and calls get_text("dict") on
every page (goal: check <= 1.3x that script), and the time per page of `check` on a report of
about 1,500 pages built from the samples against one of about 150 (goal: within 1.1x of linear).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.segment import segment  # noqa: E402
from pipeline.segment.pdf import raw_text_dict_time  # noqa: E402


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def plumber_time(path: Path) -> float | None:
    try:
        import pdfplumber
    except ImportError:
        return None
    t0 = time.perf_counter()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_tables()
    return time.perf_counter() - t0


def check_fn(path: Path) -> Callable[[], object] | None:
    try:
        from pipeline.run import check_file
    except ImportError:
        return None
    return lambda: check_file(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="PDFs (default: the samples, then the corpus)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-plumber", action="store_true", help="skip pdfplumber (slow)")
    ap.add_argument("--no-batch", action="store_true", help="skip the batch throughput")
    ap.add_argument("--copies", type=int, default=5, help="copies of each file for batch")
    args = ap.parse_args()
    if args.files:
        groups = [("files", args.files)]
    else:
        groups = [("samples", sorted((ROOT / "samples").glob("*.pdf"))),
                  ("corpus", sorted((ROOT / "corpus").glob("*.pdf"))),
                  ("cities", sorted((ROOT / "corpus" / "cities").rglob("*.pdf")))]

    header = f"{'file':44} {'pages':>5} {'floor ms/p':>10} {'segment ms/p':>12} {'x floor':>7}"
    header += f" {'check ms/p':>10} {'x floor':>7} {'plumber ms/p':>12} {'check/plumber':>13}"
    print(header)
    for name, files in groups:
        # pdfplumber takes minutes on the corpus: compared on the samples only
        run_group(name, files, args.repeat, plumber=not args.no_plumber and name == "samples")
    print("goals: segment within 5x of floor; check within 8x of floor and <= 0.5x pdfplumber")
    if not args.no_batch:
        batch_throughput(groups[0][1], args.copies)
    if not args.files:
        whole_process(groups[0][1], args.repeat)


def child_cpu(cmd: list[str], repeat: int) -> float:
    """Best CPU seconds (user + system) of a command run as its own process."""
    import resource
    import subprocess

    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


def whole_process(samples: list[Path], repeat: int) -> None:
    import tempfile

    import pymupdf

    exe = [sys.executable, "-m", "pipeline"]
    floor = [sys.executable, "-c", "import sys, pymupdf\nfor p in pymupdf.open(sys.argv[1]): "
             "p.get_text('dict')"]
    sample = str(samples[-1])
    ratio = child_cpu(exe + ["check", sample], repeat) / child_cpu(floor + [sample], repeat)
    version = child_cpu(exe + ["--version"], repeat)
    print(f"whole process: --version {version:.2f}s CPU; check {ratio:.2f}x a PyMuPDF-only "
          "get_text('dict') script on the same sample (goal <= 1.3x)")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for copies in (1, 12):  # about 1,500 pages against about 150
            out = pymupdf.open()
            for _ in range(copies):
                for src in samples:
                    with pymupdf.open(src) as doc:
                        out.insert_pdf(doc)
            path = Path(tmp) / f"joined-{copies}.pdf"
            out.save(path)
            sizes[copies] = (out.page_count, child_cpu(exe + ["check", str(path)], 1))
        (p1, t1), (p10, t10) = sizes[1], sizes[12]
        per = (t10 / p10) / (t1 / p1)
        print(f"linearity: {p1} pages {t1:.1f}s, {p10} pages {t10:.1f}s CPU: time per page "
              f"{per:.2f}x at the larger size (goal <= 1.1x)")


def run_group(name: str, files: list[Path], repeat: int, plumber: bool) -> None:
    totals = {"pages": 0, "floor": 0.0, "seg": 0.0, "check": 0.0, "plumber": 0.0}
    for path in files:
        pages = segment(path).page_count
        floor = best_of(lambda p=path: raw_text_dict_time(p), repeat)
        seg = best_of(lambda p=path: segment(p), repeat)
        fn = check_fn(path)
        chk = best_of(fn, repeat) if fn else None
        pl = plumber_time(path) if plumber else None
        totals["pages"] += pages
        totals["floor"] += floor
        totals["seg"] += seg
        totals["check"] += chk or 0.0
        totals["plumber"] += pl or 0.0
        line = f"{path.name[:44]:44} {pages:5d} {1000 * floor / pages:10.2f}"
        line += f" {1000 * seg / pages:12.2f} {seg / floor:7.1f}"
        line += f" {1000 * chk / pages:10.2f} {chk / floor:7.1f}" if chk else f" {'-':>10} {'-':>7}"
        if pl and chk:
            line += f" {1000 * pl / pages:12.2f} {chk / pl:13.2f}"
        else:
            line += f" {'-':>12} {'-':>13}"
        print(line)
    n = totals["pages"]
    line = (f"{'ALL ' + name:44} {n:5d} {1000 * totals['floor'] / n:10.2f}"
            f" {1000 * totals['seg'] / n:12.2f} {totals['seg'] / totals['floor']:7.1f}")
    if totals["check"]:
        line += f" {1000 * totals['check'] / n:10.2f} {totals['check'] / totals['floor']:7.1f}"
        if totals["plumber"]:
            line += (f" {1000 * totals['plumber'] / n:12.2f}"
                     f" {totals['check'] / totals['plumber']:13.2f}")
    print(line)


def batch_throughput(files: list[Path], copies: int) -> None:
    """Reports per second of `batch` with 1 and 2 worker processes on copies of the files."""
    import shutil
    import tempfile

    from pipeline.batch import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "reports"
        folder.mkdir()
        for i in range(copies):
            for f in files:
                shutil.copy(f, folder / f"{i:02d}_{f.name}")
        n = copies * len(files)
        for jobs in (1, 2):
            db = Path(tmp) / f"jobs{jobs}.sqlite"
            t0 = time.perf_counter()
            out = run_batch(folder, db, jobs=jobs, progress_out=None)
            elapsed = time.perf_counter() - t0
            print(f"batch --jobs {jobs}: {out.checked} reports in {elapsed:.2f}s = "
                  f"{n / elapsed:.1f} reports/s")


if __name__ == "__main__":
    main()
