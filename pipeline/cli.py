"""Command-line edge: parses flags, runs stages, turns errors into one line and an exit code."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.segment import segment
from pipeline.segment.pdf import PdfError
from schemas.document import Document

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2


class UsageError(Exception):
    """Bad input that is the user's to fix; the message is one line."""


def check_output(output: str | None, what: str = "-o") -> None:
    """Refuse an output path before any work starts: a folder, or a file in a missing or
    read-only folder. One line naming the user's path."""
    if not output:
        return
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"{output}: is a folder; {what} needs a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{output}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{output}: cannot write there (permission denied)")
    try:  # the file is written beside itself and renamed: the folder must take a new file
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".budget-lens-"):
            pass
    except OSError as exc:
        raise UsageError(f"{output}: cannot write there ({exc.strerror or exc})") from None


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names (links followed), or one path where nothing exists yet."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_clobber(outputs: list[tuple[str, Path]], inputs: list[Path]) -> None:
    """Before any work: an output that is an input, or two outputs that are one file, would lose
    what is already written. `outputs` are (option, path) pairs."""
    for i, (what, out) in enumerate(outputs):
        for src in inputs:
            if _same_file(out, src):
                raise UsageError(f"{out}: {what} would overwrite an input ({src})")
        for other_what, other in outputs[i + 1:]:
            if _same_file(out, other):
                raise UsageError(f"{out}: {what} and {other_what} name the same file")


def _annotate_targets(files: list[Path], target: str) -> list[Path]:
    """Where each annotated PDF goes: the file itself for one report, else one name per report in
    the folder (created when missing), never two reports onto one name."""
    out = Path(target)
    if len(files) == 1 and not out.is_dir():
        check_output(target, "--annotate")
        return [out]
    if out.exists() and not out.is_dir():
        raise UsageError(f"{target}: --annotate with several files needs a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{target}: cannot create the folder ({exc.strerror})") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"{target}: cannot write there (permission denied)")
    names: dict[str, int] = {}
    targets = []
    for f in files:
        n = names.get(f.stem, 0)
        names[f.stem] = n + 1
        targets.append(out / (f"{f.stem}.annotated.pdf" if n == 0 else
                              f"{f.stem}.{n + 1}.annotated.pdf"))
    return targets


def _write(text: str, output: str | None) -> None:
    if output:
        path = Path(output)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def document_json(doc: Document) -> dict:
    return {
        "source": doc.source,
        "page_count": doc.page_count,
        "title": doc.title,
        "report_type": doc.report_type,
        "tables": [
            {
                "id": t.id,
                "code": t.code,
                "kind": t.kind,
                "title": t.title,
                "unit": t.unit,
                "pages": t.pages,
                "header_rows": t.header_rows,
                "columns": t.columns,
                "notes": t.notes,
                "empty_statement": t.empty_statement,
                "rows": [r.texts for r in t.rows],
            }
            for t in doc.tables
        ],
        "sections": [
            {"title": s.title, "path": s.path, "level": s.level, "pages": s.pages, "text": s.text}
            for s in doc.sections
        ],
    }


def document_outline(doc: Document) -> str:
    from pipeline.segment.catalog import KIND_NAMES

    kind_label = {"final_accounts": "决算", "budget": "预算"}.get(doc.report_type, "未知")
    out = [f"{doc.source}: {doc.title or '(无标题)'}  [{kind_label}, {doc.page_count}页]", ""]
    out.append(f"表格 ({len(doc.tables)})")
    for t in doc.tables:
        code = f" {t.code}" if t.code else ""
        pages = f"第{t.pages[0]}页" if len(t.pages) == 1 else f"第{t.pages[0]}-{t.pages[-1]}页"
        extra = "，本表无数据" if t.empty_statement else ""
        out.append(
            f"  {t.id}{code} {t.title or KIND_NAMES.get(t.kind, t.kind)} [{t.kind}] "
            f"{pages}，{len(t.data_rows())}行，单位{t.unit or '?'}{extra}"
        )
    out += ["", f"章节 ({len(doc.sections)})"]
    for s in doc.sections:
        indent = "  " * (s.level + 1)
        pages = f"第{s.pages[0]}页" if s.pages else ""
        out.append(f"{indent}{s.title or '(前言)'}  {pages}，{len(s.text)}字")
    return "\n".join(out)


def _load(path: str) -> Document:
    return segment(Path(path))


def cmd_segment(args: argparse.Namespace) -> int:
    check_output(args.output)
    if args.output:
        refuse_clobber([("-o", Path(args.output))], [Path(args.file)])
    doc = _load(args.file)
    if args.format == "json":
        _write(json.dumps(document_json(doc), ensure_ascii=False, indent=1), args.output)
    else:
        _write(document_outline(doc), args.output)
    return EXIT_OK


def _llm_mode(args: argparse.Namespace) -> str:
    mode = args.llm or os.environ.get("BUDGET_LENS_LLM", "off") or "off"
    if mode not in ("off", "openai"):
        raise UsageError(f"--llm {mode}: choose off or openai (BUDGET_LENS_LLM)")
    return mode


def _extractor(args: argparse.Namespace):
    """The extractor the flags ask for; None for the rule-based default."""
    if _llm_mode(args) == "off":
        return None, None
    from pipeline.cache import Cache
    from pipeline.extract.llm import llm_extract
    from pipeline.llm import ConfigError, LLMClient, LLMConfig

    try:
        config = LLMConfig.from_env(os.environ, model=args.model, concurrency=args.jobs,
                                    **llm_limits(args, os.environ))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    cache_path = Path(args.cache or os.environ.get("BUDGET_LENS_CACHE")
                      or Path.home() / ".cache" / "budget-lens" / "llm.sqlite")
    client = LLMClient(config, cache=Cache(cache_path))
    return (lambda doc: llm_extract(doc, client)), client


def llm_limits(args: argparse.Namespace, env) -> dict[str, Any]:
    """Per-call timeout and transport retries from --timeout/--max-retries or the environment."""
    def pick(flag, name: str, cast, low: float):
        raw = flag if flag is not None else env.get(name)
        if raw is None:
            return None
        try:
            value = cast(raw)
        except ValueError:
            raise UsageError(f"{name}: {raw!r} is not a number") from None
        if value < low:
            raise UsageError(f"{name} must be at least {low:g}")
        return value

    out: dict[str, Any] = {}
    timeout = pick(getattr(args, "timeout", None), "BUDGET_LENS_TIMEOUT", float, 1)
    deadline = pick(getattr(args, "deadline", None), "BUDGET_LENS_DEADLINE", float, 1)
    retries = pick(getattr(args, "max_retries", None), "BUDGET_LENS_MAX_RETRIES", int, 0)
    if timeout is not None:
        out["timeout"] = timeout
    if deadline is not None:
        out["deadline"] = deadline
    if retries is not None:
        out["max_attempts"] = int(retries) + 1
    return out


def _llm_notes(runs, client) -> None:
    if client is None:
        return
    for run in runs:
        for warning in (run.claims.llm.warnings if run.claims and run.claims.llm else []):
            print(f"budget-lens: warning: {warning}", file=sys.stderr)
    print(f"budget-lens: {client.usage.line()}", file=sys.stderr)


def _annotate_all(files: list[Path], runs, targets: list[Path]) -> None:
    from pipeline.report import annotate

    for path, run, out in zip(files, runs, targets, strict=True):
        if run.result.status != "ok":
            continue
        n = annotate(run.result, path, out)
        print(f"budget-lens: {n} highlights written to {out}", file=sys.stderr)


def _reports(files: list[Path], as_one: bool) -> list[list[Path]]:
    """The reports to check: each file alone, all files as one report (--as-one), and a folder
    as one report of the PDFs in it (its 情况说明 and 报表 published apart)."""
    from pipeline.batch import find_pdfs

    if as_one:
        return [files]
    out = []
    for f in files:
        if f.is_dir():
            pdfs = find_pdfs(f)
            if not pdfs:
                raise UsageError(f"{f}: no PDFs found")
            out.append(pdfs)
        else:
            out.append([f])
    return out


def cmd_check(args: argparse.Namespace) -> int:
    from pipeline.report import RENDERERS, render_text
    from pipeline.run import check_files

    files = [Path(f) for f in args.files]
    reports = _reports(files, args.as_one)
    check_output(args.output)
    if args.annotate and any(len(r) > 1 for r in reports):
        raise UsageError("--annotate writes one PDF per file: not with a report of several files")
    targets = _annotate_targets(files, args.annotate) if args.annotate else []
    refuse_clobber(([("-o", Path(args.output))] if args.output else [])
                   + [("--annotate", t) for t in targets],
                   [p for r in reports for p in r])
    extractor, client = _extractor(args)
    runs = [check_files(r, extractor) for r in reports]
    _llm_notes(runs, client)
    results = [r.result for r in runs]
    if len(files) == 1 and results[0].status == "failed":
        raise UsageError(results[0].error or "the check failed")
    if args.format == "text":
        text = render_text(results, show_info=not args.no_info)
    else:
        text = RENDERERS[args.format](results)
    _write(text, args.output)
    if args.annotate:
        _annotate_all(files, runs, targets)
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        print(f"budget-lens: error: {r.error}", file=sys.stderr)
    if failed:
        return EXIT_FAILED
    return EXIT_FINDINGS if any(r.summary.errors for r in results) else EXIT_OK


def default_labels() -> Path:
    """The bundled labels, wherever the command is run from."""
    return Path(__file__).resolve().parent.parent / "eval" / "labels"


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.checks.base import RULES
    from pipeline.evaluate import LabelError, evaluate
    from pipeline.run import check_file, check_files

    if args.scale:
        return _scale(args)
    root = Path(__file__).resolve().parent.parent
    pair_checker = None
    labels = Path(args.labels) if args.labels else default_labels()
    if not labels.is_dir():
        raise UsageError(f"{labels}: no such labels folder")
    select = None
    if args.llm == "replay":
        from pipeline.replay import check_replayed, sample_cassette

        def checker(p: Path):
            return check_replayed(p).result

        def select(p: Path) -> bool:  # reports with recorded LLM exchanges only
            return sample_cassette(p.stem).exists()

        print("budget-lens: --llm replay scores the reports that have cassettes "
              "(cassettes/samples/)", file=sys.stderr)
    else:
        def checker(p: Path):
            return check_file(p).result

        def pair_checker(paths: list[Path]):  # a report published as two files
            return check_files(paths).result
    try:
        result = evaluate(labels, root / "samples", checker, select, rules=list(RULES),
                          skip_unseen=args.skip_unseen, pair_checker=pair_checker)
    except (FileNotFoundError, LabelError) as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        _write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1), None)
    else:
        _write(result.as_text(), None)
    return EXIT_OK


def _pdf_folder(folder: Path, jobs: int) -> list[Path]:
    """The PDFs of a folder to work through with `jobs` workers, or one line saying why not."""
    from pipeline.batch import find_pdfs

    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    pdfs = find_pdfs(folder)
    if not pdfs:
        raise UsageError(f"{folder}: no PDFs found")
    return pdfs


def _scale(args: argparse.Namespace) -> int:
    from pipeline.scale import measure

    result = measure(_pdf_folder(Path(args.scale), args.jobs), args.jobs)
    _write(json.dumps(result.as_dict(), ensure_ascii=False, indent=1) if args.format == "json"
           else result.as_text(), None)
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    import sqlite3

    from pipeline.batch import export_csv, export_xlsx, open_db, run_batch, summary_text

    folder = Path(args.folder)
    if folder.is_file():
        raise UsageError(f"{folder}: batch wants a folder of PDFs; "
                         "for one report use budget-lens check")
    pdfs = _pdf_folder(folder, args.jobs)
    db = Path(args.db)
    check_output(args.db, "--db")
    for export in (args.csv, args.xlsx):
        check_output(export, "--csv/--xlsx")
    stem = db.with_suffix("")
    csv_path = Path(args.csv or f"{stem}.findings.csv")
    xlsx_path = Path(args.xlsx or f"{stem}.findings.xlsx")
    for export in (csv_path, xlsx_path):  # the default names too, before the folder runs
        check_output(str(export), "--csv/--xlsx")
    refuse_clobber([("--db", db), ("--csv", csv_path), ("--xlsx", xlsx_path)], pdfs)
    try:
        open_db(db).close()
    except sqlite3.DatabaseError:
        raise UsageError(f"{db}: not a budget-lens database (SQLite)") from None
    try:
        outcome = run_batch(folder, db, jobs=args.jobs,
                            progress_out=None if args.quiet else sys.stderr)  # bar on a terminal only
    except KeyboardInterrupt:
        print(f"budget-lens: interrupted; results of finished files are kept in {db}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    present = outcome.paths
    print(summary_text(db, outcome, present))
    n = export_csv(db, csv_path, present)
    export_xlsx(db, xlsx_path, present)
    print(f"已导出{n}条问题：{csv_path}，{xlsx_path}")
    # files that failed are recorded with their error and the batch goes on; the exit code says so
    return EXIT_FAILED if outcome.failed else EXIT_OK


def _answer_one(question: str, facts, client, findings=None) -> str:
    from pipeline.ask import answer, ask_llm, format_answer, format_llm_answer
    from pipeline.llm import LLMError

    offline = answer(question, facts)
    if client is None:
        return format_answer(offline, findings)
    try:
        return format_llm_answer(ask_llm(question, facts, client), offline)
    except LLMError as exc:
        return f"模型调用失败（{exc}），以下为离线检索结果：\n{format_answer(offline, findings)}"


def _interactive(facts, client, title: str, findings=None) -> None:
    history = Path.home() / ".cache" / "budget-lens" / "ask_history"
    try:
        import readline

        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    except (ImportError, OSError):
        readline = None  # type: ignore[assignment]
    print(f"{title}\n输入问题后回车；空行、“退出”或 Ctrl-D 结束。")
    try:
        while True:
            try:
                question = input("问> ").strip()
            except EOFError:
                print()
                break
            if not question or question in ("退出", "exit", "quit"):
                break
            print(_answer_one(question, facts, client, findings))
    finally:
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass


def cmd_ask(args: argparse.Namespace) -> int:
    from pipeline.ask import build_facts
    from pipeline.checks import run_checks
    from pipeline.extract import extract

    doc = _load(args.file)
    claims = extract(doc)
    facts = build_facts(doc, claims)
    findings = run_checks(doc, claims)  # an answer that quotes a questioned figure says so
    _, client = _extractor(args)
    if args.question:
        print(_answer_one(" ".join(args.question), facts, client, findings))
    else:
        _interactive(facts, client, f"{doc.source}：{doc.title}（{doc.page_count}页，{len(facts)}个数字）",
                     findings)
    if client is not None:
        print(f"budget-lens: {client.usage.line()}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import socket
    import sqlite3

    data = Path(args.data)
    if data.exists() and not data.is_dir():
        raise UsageError(f"{data}: --data must be a folder")
    if args.db and not Path(args.db).is_file() and not Path(args.db).parent.is_dir():
        raise UsageError(f"{args.db}: its folder does not exist")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.max_upload_mb <= 0:
        raise UsageError("--max-upload-mb must be positive")
    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port} "
                         f"({os.strerror(exc.errno) if exc.errno else exc})"
                         ) from None
    from pipeline.web.app import LOCAL_HOSTS, Settings, create_app

    settings = Settings(data, Path(args.db) if args.db else None, workers=args.workers,
                        max_upload_mb=args.max_upload_mb, host=args.host)
    try:
        data.mkdir(parents=True, exist_ok=True)
        app = create_app(settings)
    except sqlite3.DatabaseError:
        raise UsageError(f"{settings.db}: not a budget-lens database (SQLite)") from None
    import uvicorn

    if args.host not in LOCAL_HOSTS:
        print(f"budget-lens: warning: serving on {args.host}: anyone who can reach this machine "
              "can read the reports and record verdicts (there is no login)", file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Budget Lens 工作台：http://{shown}:{args.port}/  （数据：{settings.data}，"
          f"数据库：{settings.db}；Ctrl-C 停止）", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from pipeline.checks import RULES

    for r in RULES.values():
        print(f"{r.id:22} {r.severity:8} {r.description}")
    return EXIT_OK


def _llm_limit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, help="seconds per LLM request (env BUDGET_LENS_TIMEOUT; "
                   "default 60)")
    p.add_argument("--max-retries", type=int, help="retries of a failed LLM request (env "
                   "BUDGET_LENS_MAX_RETRIES; default 3)")


class _VersionAction(argparse.Action):
    """--version, looked up only when asked (the package metadata costs every start-up ~20 ms)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[no-untyped-def]
        print(f"budget-lens {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("budget-lens")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="budget-lens",
        description="Check Chinese budget / final-accounts disclosure reports for contradictions.",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("segment", help="split a report into tables and narrative sections")
    s.add_argument("file", help="report PDF")
    s.add_argument("--format", choices=["json", "text"], default="text")
    s.add_argument("--output", "-o", help="write to this file instead of standard output")
    s.set_defaults(func=cmd_segment)

    c = sub.add_parser("check", help="find where reports contradict themselves")
    c.add_argument("files", nargs="+", help="report PDFs (a folder: one report of several files)")
    c.add_argument("--as-one", action="store_true", help="the files are one report published as "
                   "several (情况说明 and 报表 apart): read and checked together")
    c.add_argument("--format", choices=["text", "md", "json", "html"], default="text")
    c.add_argument("--output", "-o", help="write the report to this file")
    c.add_argument("--annotate", metavar="OUT.pdf",
                   help="also write the PDF with findings highlighted (a folder for several files)")
    c.add_argument("--no-info", action="store_true", help="text format: hide rounding-level notes")
    c.add_argument("--llm", choices=["off", "openai"], default=None,
                   help="extractor: off (rule-based, default) or openai (any OpenAI-compatible "
                   "server; OPENAI_API_KEY, OPENAI_BASE_URL, BUDGET_LENS_MODEL); env BUDGET_LENS_LLM")
    c.add_argument("--model", help="LLM model (env BUDGET_LENS_MODEL)")
    c.add_argument("--cache", help="SQLite cache of LLM answers (env BUDGET_LENS_CACHE; default "
                   "~/.cache/budget-lens/llm.sqlite)")
    c.add_argument("--jobs", type=int, default=4, help="concurrent LLM requests (default 4)")
    _llm_limit_args(c)
    c.add_argument("--deadline", type=float, help="seconds for all the LLM calls of one report; "
                   "chunks not done by then keep their rule-based claims (env BUDGET_LENS_DEADLINE)")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("eval", help="precision and recall against labelled gold findings")
    e.add_argument("--llm", choices=["off", "replay"], default="off",
                   help="off: the rule-based extractor; replay: LLM answers from cassettes/")
    e.add_argument("--labels", help="folder of label files (default: the bundled eval/labels)")
    e.add_argument("--format", choices=["text", "json"], default="text")
    e.add_argument("--scale", metavar="DIR", help="no labels: check every PDF under DIR and print "
                   "error findings per report (mean, 90th percentile, worst three), reports with "
                   "no table recognised, tables not understood, failures and seconds per report")
    e.add_argument("--jobs", "-j", type=int, default=2, help="--scale: worker processes (default 2)")
    e.add_argument("--skip-unseen", action="store_true", help="leave out the reports kept unread "
                   "(holdout labels) while rules are being changed")
    e.set_defaults(func=cmd_eval)

    a = sub.add_parser("ask", help="answer questions about one report, with page citations")
    a.add_argument("file", help="report PDF")
    a.add_argument("question", nargs="*", help="the question; none: ask interactively")
    a.add_argument("--llm", choices=["off", "openai"], default=None,
                   help="off (default): offline retrieval; openai: the model answers from the "
                   "retrieved passages, its figures and quotes checked against them")
    a.add_argument("--model", help="LLM model (env BUDGET_LENS_MODEL)")
    a.add_argument("--cache", help="SQLite cache of LLM answers")
    _llm_limit_args(a)
    a.add_argument("--deadline", type=float, help="seconds for the LLM's answer to one question; "
                   "past it the offline answer stands (env BUDGET_LENS_DEADLINE)")
    a.set_defaults(func=cmd_ask, jobs=1)

    b = sub.add_parser("batch", help="check every PDF under a folder; results in SQLite",
                       description="Check every PDF under a folder; results in SQLite. Exit codes: "
                       "0 every file checked, 2 a file could not be read (recorded in the "
                       "database) or the batch could not start, 130 interrupted (run again to "
                       "resume).")
    b.add_argument("folder", help="folder of report PDFs (searched recursively)")
    b.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    b.add_argument("--db", default="results.sqlite", help="SQLite database (default results.sqlite)")
    b.add_argument("--csv", help="export of all findings (default <db>.findings.csv)")
    b.add_argument("--xlsx", help="export of all findings (default <db>.findings.xlsx)")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_batch)

    w = sub.add_parser("serve", help="the reviewer workbench: a local web app",
                       description="The reviewer workbench: upload reports or open a batch "
                       "database, read the findings beside the highlighted pages, record verdicts.")
    w.add_argument("--data", default="budget-lens-data",
                   help="folder for uploads and exports (default ./budget-lens-data)")
    w.add_argument("--db", help="SQLite database, e.g. one `batch` wrote (default "
                   "<data>/results.sqlite)")
    w.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    w.add_argument("--workers", type=int, default=1, help="reports checked at once (default 1)")
    w.add_argument("--max-upload-mb", type=float, default=50,
                   help="largest PDF accepted, in MB (default 50)")
    w.set_defaults(func=cmd_serve)

    r = sub.add_parser("rules", help="list the checks with their ids and severities")
    r.set_defaults(func=cmd_rules)
    return p


class _LineFormatter(logging.Formatter):
    """The tool's own line on standard error: `budget-lens: warning: …`."""

    def format(self, record: logging.LogRecord) -> str:
        return f"budget-lens: {record.levelname.lower()}: {record.getMessage()}"


def run(argv: list[str] | None, handler: Callable[[argparse.Namespace], int] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    handler_ = logging.StreamHandler()
    handler_.setFormatter(_LineFormatter())
    logging.basicConfig(level=level, handlers=[handler_])
    try:
        return (handler or args.func)(args)
    except (PdfError, UsageError) as exc:
        print(f"budget-lens: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("budget-lens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        print(f"budget-lens: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED


def main() -> None:
    sys.exit(run(sys.argv[1:]))
