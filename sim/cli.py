"""The ``ccsim`` command line: thin verbs over :mod:`sim`.

Exit codes: 0 ok, 1 run failure, 2 usage error or invalid scenario. Problems are printed one
per line without a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
from pathlib import Path

from sim.errors import CcsimError, ScenarioError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: KPIs in the compact table ``ccsim run`` prints, in order.
TABLE_KPIS = ("offered", "asa_s", "service_level", "abandon_rate", "occupancy", "aht_s",
              "backlog", "sla_compliance")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"ccsim: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    from sim.engines import DEFAULT_ENGINE, ENGINES

    p = _Parser(prog="ccsim", description="Discrete-event contact-center simulator.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="verb", parser_class=_Parser)

    r = sub.add_parser("run", help="simulate a scenario and write a results folder")
    r.add_argument("scenario", nargs="?", default=None)
    r.add_argument("--resume", metavar="RUN_DIR", default=None,
                   help="finish an interrupted run folder (no scenario argument)")
    r.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run on a Dask cluster: tcp://HOST:8786, or 'local' (LocalCluster)")
    r.add_argument("--precision", default=None,
                   help="add replications until the KPI's 95%% CI half-width is below this "
                   "share of its mean (or abs:VALUE)")
    r.add_argument("--kpi", default="service_level", help="KPI for --precision")
    r.add_argument("--channel", default="all", help="channel for --precision")
    r.add_argument("--max-replications", type=_positive_int, default=200,
                   help="cap for --precision (default 200)")
    r.add_argument("--batch-means", type=_positive_int, default=None, metavar="K",
                   help="steady state from one long replication cut into K batches")
    r.add_argument("--replications", "-n", type=_positive_int, default=10)
    r.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    r.add_argument("--out", default=None, help="run folder (default results/<name>-<time>)")
    r.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    r.add_argument("--workers", type=_positive_int, default=None,
                   help="local processes (default: all cores)")
    r.add_argument("--contacts", action="store_true", help="also write contacts.parquet")
    r.add_argument("--queue-intervals", action=argparse.BooleanOptionalAction, default=None,
                   help="per-queue rows in intervals.parquet (default: only when intervals "
                   "x queues <= 100,000, e.g. a month of half-hours, not a year)")
    r.add_argument("--report", action="store_true",
                   help="also build report.html and summary.md in the run folder")
    r.add_argument("--quiet", action="store_true", help="no progress bar or table")
    r.add_argument("--debug", action="store_true", help="show tracebacks")

    c = sub.add_parser("compare", help="KPI differences with CIs: two run folders (RUN_A is "
                       "the baseline), or scenarios simulated with common random numbers (the "
                       "first is the baseline)")
    c.add_argument("scenarios", nargs="+", metavar="RUN_DIR|SCENARIO")
    c.add_argument("--out", default=None, metavar="FILE",
                   help="also write a comparison report: FILE.html (self-contained, with "
                   "FILE.md next to it) or FILE.md")
    sw = sub.add_parser("sweep", help="simulate a grid of scenario variants (--set) with "
                        "common random numbers")
    sw.add_argument("scenario")
    sw.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUES",
                    help="dotted path and values: a,b,c or LOW..HIGH (repeatable)")
    sw.add_argument("--out", default=None, help="run folder (default results/<name>-sweep-"
                    "<time>)")
    for verb in (c, sw):
        verb.add_argument("--replications", "-n", type=_positive_int, default=10)
        verb.add_argument("--seed", type=int, default=None,
                          help="default: the (first) scenario's seed")
        verb.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
        verb.add_argument("--workers", type=_positive_int, default=None,
                          help="local processes (default: all cores)")
        verb.add_argument("--dask", metavar="ADDRESS", default=None,
                          help="tcp://HOST:8786 or 'local'")
        verb.add_argument("--quiet", action="store_true", help="no progress bar")
        verb.add_argument("--debug", action="store_true", help="show tracebacks")

    v = sub.add_parser("validate", help="check scenario files")
    v.add_argument("files", nargs="+")
    v.add_argument("--debug", action="store_true", help="show tracebacks")

    s = sub.add_parser("schema", help="write the JSON Schema of scenario files")
    s.add_argument("--out", default=None, help="file (default: standard output)")
    s.add_argument("--debug", action="store_true", help="show tracebacks")

    rp = sub.add_parser("report", help="build report.html and summary.md for a run folder")
    rp.add_argument("run_dir")
    rp.add_argument("--baseline", default=None,
                    help="an earlier run folder: flag KPIs that moved more than 10%%")
    rp.add_argument("--out", default=None, help="HTML file (default RUN_DIR/report.html)")
    rp.add_argument("--debug", action="store_true", help="show tracebacks")

    from sim.staffing import ERLANG_OPTIONS, STAFF_OPTIONS, STAFF_SWITCHES

    e = sub.add_parser("erlang", help="Erlang C/A staffing calculator: agents, measures, FTE")
    st = sub.add_parser("staff", help="staffing requirement per interval: analytic, corrected "
                        "by simulation (--simulate), shift schedules (--schedule)")
    st.add_argument("scenario")
    for flag, text in STAFF_SWITCHES:
        st.add_argument(flag, action="store_true", help=text)
    for verb, options in ((e, ERLANG_OPTIONS), (st, STAFF_OPTIONS)):
        for flag, text in options:
            verb.add_argument(flag, default=None, help=text)
        verb.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the ``ccsim`` command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.verb is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return {"run": _run, "validate": _validate, "schema": _schema,
                "report": _report, "erlang": _erlang, "staff": _staff,
                "compare": _compare, "sweep": _sweep}[args.verb](args, argv)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        if args.debug:
            raise
        return EXIT_USAGE
    except CcsimError as exc:
        print(f"ccsim: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("ccsim: interrupted; nothing was written", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # a bug: say so briefly, full story with --debug
        if args.debug:
            raise
        print(f"ccsim: internal error: {type(exc).__name__}: {exc} (rerun with --debug for "
              "the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def _validate(args, argv) -> int:
    from sim.compile import compile_scenario
    from sim.experiment import check_stability
    from sim.scenario import load_scenario, unsimulated

    status = EXIT_OK
    for file in args.files:
        try:
            scenario = load_scenario(file)
            model = compile_scenario(scenario)
            check_stability(scenario, model)
        except ScenarioError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = EXIT_USAGE
            continue
        print(f"{file}: ok ({len(model.channel_names)} channels, {model.n_queues} queues, "
              f"{len(model.team_names)} teams, {model.n_agents} agents, "
              f"{model.horizon_s / 86400:g} days)")
        for note in unsimulated(scenario):
            print(f"{file}: note: {note}", file=sys.stderr)
    return status


def _schema(args, argv) -> int:
    from sim.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "run"


def _run(args, argv) -> int:
    from sim.api import Precision, default_workers, resume, run
    from sim.kpi import KPI_KEYS
    from sim.scenario import load_scenario

    workers = args.workers or default_workers()
    command = ["ccsim", *argv]
    if args.resume:
        if args.scenario:
            print("ccsim run: give a scenario or --resume RUN_DIR, not both", file=sys.stderr)
            return EXIT_USAGE
        out = Path(args.resume)
        try:
            results = _interruptible(out, lambda: resume(
                out, workers=workers, dask=args.dask, progress=not args.quiet))
        except KeyboardInterrupt:
            return EXIT_FAILURE
    else:
        if not args.scenario:
            print("ccsim run: give a scenario file (or --resume RUN_DIR)", file=sys.stderr)
            return EXIT_USAGE
        precision = None
        if args.precision is not None:
            if args.kpi not in KPI_KEYS:
                print(f"ccsim run: --kpi: unknown KPI {args.kpi!r}", file=sys.stderr)
                return EXIT_USAGE
            try:
                precision = Precision.parse(args.precision, args.kpi, args.channel,
                                            args.max_replications)
            except ValueError as exc:
                print(f"ccsim run: {exc}", file=sys.stderr)
                return EXIT_USAGE
        if args.batch_means is not None:
            if precision is not None or args.batch_means < 2 or "-n" in argv or \
                    "--replications" in argv:
                print("ccsim run: --batch-means K runs one replication (no -n, no "
                      "--precision) and needs K >= 2", file=sys.stderr)
                return EXIT_USAGE
            args.replications = 1
        scenario = load_scenario(args.scenario)
        if precision is not None and precision.channel not in (
                "all", *scenario.channels):
            print(f"ccsim run: --channel: no channel {args.channel!r}", file=sys.stderr)
            return EXIT_USAGE
        out = Path(args.out) if args.out else Path("results") / (
            f"{_slug(scenario.name)}-{dt.datetime.now():%Y%m%d-%H%M%S}")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CcsimError(f"{out}: already exists and is not empty; choose another --out")
        if precision is None and not args.dask:
            workers = min(workers, args.replications)
        try:
            results = _interruptible(out, lambda: run(
                scenario, replications=args.replications, seed=args.seed,
                engine=args.engine, workers=workers, contacts=args.contacts,
                progress=not args.quiet, command=command, out=out, dask=args.dask,
                precision=precision, batch_means=args.batch_means,
                queue_intervals=args.queue_intervals))
        except KeyboardInterrupt:
            return EXIT_FAILURE
    folder = out
    for note in results.manifest.get("notes", []):
        print(f"{results.manifest.get('scenario_file')}: note: {note}", file=sys.stderr)
    if not args.quiet:
        print(format_table(results))
    p = results.manifest.get("precision")
    if p and "reached" in p:
        bound = f"abs {p['absolute']:g}" if p.get("absolute") else f"{p['relative']:g} x mean"
        half, goal = (("-" if p[k] is None else f"{p[k]:.4g}") for k in ("half_width", "goal"))
        print(f"precision: {p['channel']} {p['kpi']} half-width {half} (goal {bound} = {goal}) "
              f"{'reached' if p['reached'] else 'NOT reached'} with "
              f"{results.manifest['replications']} replications")
    print(f"results: {folder}")
    if args.report:
        from sim.report import build_report

        print(f"report: {build_report(folder)}")
    return EXIT_OK


def _interruptible(out: Path, fn):
    """Call ``fn``; on Ctrl-C say what was kept and how to finish, then re-raise."""
    try:
        return fn()
    except KeyboardInterrupt:
        from sim.experiment import ReplicationStore

        n = len(ReplicationStore(out).done())
        print(f"\nccsim: interrupted; {n} finished replication{'s' * (n != 1)} kept in "
              f"{out}; finish with: ccsim run --resume {out}", file=sys.stderr)
        raise


def _compare(args, argv) -> int:
    from sim.api import default_workers
    from sim.compare import compare, format_compare

    folders = [Path(x).is_dir() for x in args.scenarios]
    if any(folders):
        return _compare_runs(args, argv)
    if len(args.scenarios) < 2:
        print("ccsim compare: give at least two scenarios (or two run folders)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.out:
        return _compare_scenarios_report(args, argv)
    table = compare(args.scenarios, replications=args.replications, seed=args.seed,
                    engine=args.engine, workers=args.workers or default_workers(),
                    dask=args.dask, progress=not args.quiet)
    print(f"{args.replications} replications each, common random numbers; differences are "
          "scenario - baseline (first scenario)")
    print(format_compare(table))
    return EXIT_OK


def _compare_scenarios_report(args, argv) -> int:
    """``ccsim compare A.yaml B.yaml --out X.html``: simulate both scenarios with common
    random numbers into run folders beside the report (``X-runs/baseline``, ``X-runs/variant``)
    and report their paired differences like two run folders."""
    from sim.api import default_workers, run
    from sim.compare import compare_runs, format_compare_runs
    from sim.report.comparison import build_compare_report
    from sim.scenario import load_scenario

    if len(args.scenarios) != 2:
        print("ccsim compare: --out reports two scenarios (baseline first), "
              f"not {len(args.scenarios)}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    runs = out.with_name(out.stem + "-runs")
    if runs.exists():
        print(f"ccsim compare: {runs} already exists; choose another --out or remove it",
              file=sys.stderr)
        return EXIT_USAGE
    scenarios = [load_scenario(p) for p in args.scenarios]
    seed = args.seed if args.seed is not None else scenarios[0].seed
    folders = []
    for tag, scenario in zip(("baseline", "variant"), scenarios, strict=True):
        folder = runs / tag
        run(scenario, replications=args.replications, seed=seed, engine=args.engine,
            workers=args.workers or default_workers(), dask=args.dask,
            progress=not args.quiet, out=folder, command=["ccsim", *argv])
        folders.append(folder)
    table = compare_runs(*folders)
    print(f"{args.replications} replications each, common random numbers (seed {seed}); "
          f"run folders in {runs}")
    print(format_compare_runs(table))
    for path in build_compare_report(*folders, args.out, table=table):
        print(f"report: {path}")
    return EXIT_OK


#: ``ccsim compare`` options that only make sense when simulating scenarios.
_SIMULATE_FLAGS = ("-n", "--replications", "--seed", "--engine", "--workers", "--dask")


def _compare_runs(args, argv) -> int:
    """``ccsim compare RUN_A RUN_B``: KPI differences of two existing run folders."""
    from sim.compare import compare_runs, format_compare_runs
    from sim.report import RunFolderError
    from sim.report.comparison import build_compare_report

    if len(args.scenarios) != 2 or not all(Path(x).is_dir() for x in args.scenarios):
        odd = [x for x in args.scenarios if not Path(x).is_dir()]
        why = (f"{', '.join(odd)}: not a folder" if odd
               else f"{len(args.scenarios)} folders given")
        print(f"ccsim compare: give two run folders (baseline first) or scenario files, not "
              f"a mix ({why})", file=sys.stderr)
        return EXIT_USAGE
    given = [f for f in _SIMULATE_FLAGS if any(a == f or a.startswith(f + "=") for a in argv)]
    if given:
        print(f"ccsim compare: {', '.join(given)} only apply to scenarios; run folders are "
              "compared as they are", file=sys.stderr)
        return EXIT_USAGE
    try:
        table = compare_runs(*args.scenarios)
        print(format_compare_runs(table))
        if args.out:
            for path in build_compare_report(*args.scenarios, args.out, table=table):
                print(f"report: {path}")
    except RunFolderError as exc:
        print(f"ccsim compare: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_USAGE
    return EXIT_OK


def _sweep(args, argv) -> int:
    from sim.api import default_workers
    from sim.sweep import SweepError, format_sweep, sweep

    try:
        table = sweep(args.scenario, args.sets, replications=args.replications,
                      seed=args.seed, engine=args.engine,
                      workers=args.workers or default_workers(), dask=args.dask,
                      progress=not args.quiet, out=args.out or "auto",
                      command=["ccsim", *argv])
    except SweepError as exc:
        print(f"ccsim sweep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(format_sweep(table))
    print(f"results: {table.attrs['folder']}")
    return EXIT_OK


def _report(args, argv) -> int:
    from sim.report import RunFolderError, build_report

    try:
        path = build_report(args.run_dir, baseline_dir=args.baseline, out=args.out)
    except RunFolderError as exc:
        print(f"ccsim: {exc}", file=sys.stderr)
        if args.debug:
            raise
        return EXIT_USAGE
    print(f"report: {path}")
    print(f"summary: {path.parent / 'summary.md'}")
    return EXIT_OK


def _erlang(args, argv) -> int:
    from sim.staffing import erlang_from_options

    try:
        text = erlang_from_options(vars(args))
    except ValueError as exc:  # bad option values: one line, usage exit code
        if args.debug:
            raise
        print(f"ccsim erlang: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(text)
    return EXIT_OK


def _staff(args, argv) -> int:
    from sim.scenario import load_scenario
    from sim.staffing import staff_from_options

    scenario = load_scenario(args.scenario)
    try:
        text = staff_from_options(scenario, {**vars(args), "progress": True})
    except ValueError as exc:  # bad option values: one line, usage exit code
        if args.debug:
            raise
        print(f"ccsim staff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(text)
    return EXIT_OK


def _fmt(value: float, kpi: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    from sim.kpi import KPI_INFO

    if KPI_INFO.get(kpi, ("", ""))[1] == "share":
        return f"{100 * value:.1f}%"
    if kpi in ("offered", "backlog"):
        return f"{value:,.0f}"
    return f"{value:.2f}" if 0 < abs(value) < 1 else f"{value:.1f}"


def format_table(results) -> str:
    """The compact KPI table (mean and 95% half-width) and the targets, as text."""
    s = results.summary
    channels = list(dict.fromkeys(s.channel))
    kpis = [k for k in TABLE_KPIS if k in set(s.kpi)]
    n = int(results.manifest.get("replications", 0))
    k = results.manifest.get("batch_means")
    lines = [f"{results.scenario.name}: {n} replication{'s' * (n != 1)}"
             f"{f' ({k} batch means)' if k else ''}, engine "
             f"{results.manifest.get('engine')}, seed {results.manifest.get('seed')} "
             "(mean ± 95% CI half-width)"]
    header = ["channel", *kpis]
    rows = []
    for ch in channels:
        row = [ch]
        for k in kpis:
            r = s[(s.channel == ch) & (s.kpi == k)].iloc[0]
            cell = _fmt(r["mean"], k)
            half = (r["ci95_high"] - r["ci95_low"]) / 2
            if cell != "-" and not math.isnan(half) and k not in ("offered",):
                cell += f" ±{_fmt(half, k).rstrip('%')}"
            row.append(cell)
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        lines.append("  ".join(str(x).rjust(w) if i else str(x).ljust(w)
                               for i, (x, w) in enumerate(zip(row, widths, strict=True))))
    if not results.targets.empty:
        lines.append("targets:")
        for t in results.targets.itertuples():
            bound = " and ".join(p for p in (
                f">= {_fmt(t.min, t.kpi)}" if t.min == t.min and t.min is not None else "",
                f"<= {_fmt(t.max, t.kpi)}" if t.max == t.max and t.max is not None else "")
                if p)
            lines.append(f"  {t.status.upper():9} {t.channel} {t.kpi} {_fmt(t.mean, t.kpi)} "
                         f"(target {bound}; met in {100 * t.p_met:.0f}% of replications)")
    return "\n".join(lines)
