"""The command line: `python -m housing_assurance COMMAND …` (shared/spec/interfaces.md).

Exit codes: 0 success, 1 a failure explained in one line on stderr, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl


class UserError(Exception):
    """A problem the user can fix; shown as one line, without a traceback."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _jsonable(value):
    """A value as strict JSON has it: dates as text, NaN and infinity (not JSON) as null."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def rows_as_json(frame: pl.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def print_json(value) -> None:
    """Strict JSON on stdout (allow_nan=False: a NaN that slipped through fails here, never in a reader)."""
    json.dump(_jsonable(value), sys.stdout, indent=2, allow_nan=False)
    print()


def check_settings(args) -> None:
    """Every settings file checked before a command reads figures (the access file when --as-user names
    a user or the file exists): a mistake is one line naming the file, the key and the value."""
    from housing_assurance.settings import SettingsError, check_all

    try:
        check_all(access_required=getattr(args, "as_user", None) is not None)
    except SettingsError as exc:
        raise UserError(str(exc)) from None


def open_for_cli(data: Path):
    """--data: a prepared store, or an extract folder (prepared into the cache on first use, with progress)."""
    from housing_assurance.progress import terminal_progress
    from housing_assurance.store import StoreError, open_data

    try:
        return open_data(data, terminal_progress())
    except StoreError as exc:
        raise UserError(str(exc)) from None


def user_from_args(args):
    """The --as-user user, or None when the command runs with the operator's own (full) access."""
    if getattr(args, "as_user", None) is None:
        return None
    from housing_assurance.access import AccessError, find_user

    try:
        return find_user(args.as_user)  # from the operator's access file, never the extract's
    except AccessError as exc:
        raise UserError(str(exc)) from None


def scope_from_args(extract, args):
    """--region/--team, narrowed to what --as-user may see (the narrower of the two applies).

    An unknown region or team is noted, not refused: kpis.md gives its counts as 0 and ratios as null.
    """
    from housing_assurance.access import no_team_words, user_scope
    from housing_assurance.scope import Scope, narrow, unknown_names

    for problem in unknown_names(extract, args.region, (args.team,) if args.team is not None else None):
        print(f"note: {problem}; its figures are empty", file=sys.stderr)
    user = user_from_args(args)
    if user is not None:
        allowed = user_scope(extract, user)
        if allowed.teams == ():
            print(f"note: {no_team_words(user)}", file=sys.stderr)
        return narrow(allowed, args.region, args.team)
    return Scope(region=args.region, teams=(args.team,) if args.team is not None else None)


def audit_cli(args, action: str, scope, target: str | None) -> None:
    """Command-line drill-downs and packs are audited like the app's: who ran the command (the
    operating-system user), on whose behalf (--as-user), what, scope, week. Unaudited, it stops."""
    from housing_assurance import audit

    if not audit.record(audit.command_line_actor(), action, scope, target, args.as_of.isoformat(),
                        on_behalf_of=args.as_user):
        raise UserError(f"this command could not be recorded in the audit trail ({audit.audit_file()})")


def json_value(k, value: float | None) -> float | int | None:
    """A count is a whole number in the JSON (42, not 42.0); every other value as computed, unrounded."""
    return int(value) if k.kind == "count" and value is not None and math.isfinite(value) else value


def cmd_kpis(args) -> int:
    from housing_assurance.figures import FigureStore
    from housing_assurance.kpis import KPIS
    from housing_assurance.weeks import week_period

    check_settings(args)
    user_from_args(args)
    extract = open_for_cli(args.data)
    scope = scope_from_args(extract, args)
    figures = FigureStore(extract).figures([args.as_of], scope)  # a prepared week's from the store's table
    audit_cli(args, "kpis", scope, None)
    start, end = week_period(args.as_of)
    if args.json:
        out = {
            "as_of": args.as_of.isoformat(),
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "scope": {"region": args.region, "team": args.team},
            "kpis": {r["kpi_id"]: {"value": json_value(KPIS[r["kpi_id"]], r["value"]), "numerator": r["numerator"],
                                   "denominator": r["denominator"]}
                     for r in figures.iter_rows(named=True)},
        }
        print_json(out)
        return 0
    from housing_assurance.words import scope_text, value_text

    print(f"{extract.landlord}: week {start:%d %b %Y} to {end:%d %b %Y}, {scope_text(scope)}")
    for r in figures.iter_rows(named=True):
        k = KPIS[r["kpi_id"]]
        ratio = f"  ({r['numerator']}/{r['denominator']})" if r["denominator"] is not None else ""
        print(f"{k.id:38} {value_text(k, r['value']):>12}{ratio}  {k.title}")
    return 0


def cmd_due(args) -> int:
    """The "Due soon" list (housing_assurance/due.py): open clocks falling due in the next 5 working days."""
    from housing_assurance import clocks, due
    from housing_assurance.words import scope_text

    check_settings(args)
    user_from_args(args)
    extract = open_for_cli(args.data)
    scope = scope_from_args(extract, args)
    rows = due.due_soon(extract, args.as_of, scope)
    audit_cli(args, "due", scope, None)
    if args.json:
        print_json(due.as_json(rows))
        return 0
    last = due.window_last_day(args.as_of)
    print(f"{extract.landlord}: due by the end of {last:%a %d %b %Y} and not yet met, at {args.as_of:%d %b %Y}, "
          f"{scope_text(scope)}: {rows.height:,}")
    for r in rows.iter_rows(named=True):
        flag = "  vulnerable household" if r["is_vulnerable_household"] else ""
        print(f"{r['due_by']:%a %d %b %H:%M}  {r['id']:14} {clocks.CLOCKS[r['clock']].short_name:34} "
              f"{r['team_id'] or '—'}{flag}")
    return 0


def cmd_cases(args) -> int:
    from housing_assurance.kpis import KPIS, cases

    if args.kpi not in KPIS:
        raise UserError(f"unknown KPI id {args.kpi!r}; `kpis --json` lists the ids")
    check_settings(args)
    user = user_from_args(args)
    extract = open_for_cli(args.data)
    scope = scope_from_args(extract, args)
    rows = cases(extract, args.as_of, args.kpi, scope)
    if user is not None:
        from housing_assurance.access import user_scope, visible_rows
        from housing_assurance.kpis import QUERY_SCOPES

        rows, withheld = visible_rows(extract, QUERY_SCOPES[KPIS[args.kpi].query], rows, user,
                                      user_scope(extract, user))
        if withheld:
            print(f"note: {withheld:,} rows counted in this figure are of households {args.as_user}'s teams do not "
                  "serve: they are counted but not listed", file=sys.stderr)
    audit_cli(args, "cases", scope, args.kpi)
    if args.json:
        print_json(rows_as_json(rows))
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200):
            print(rows)
    return 0


def cmd_report(args) -> int:
    """The weekly PDF pack (housing_assurance/pack/); Chromium boots while the extract loads."""
    from housing_assurance.access import user_scope
    from housing_assurance.pack import (
        ChartRenderer,
        PackError,
        check_destination,
        check_request,
        check_scope,
        write_pack,
    )
    from housing_assurance.progress import terminal_progress
    from housing_assurance.scope import Scope
    from housing_assurance.store import StoreError, check_data_path

    check_settings(args)
    user = user_from_args(args)

    try:  # a wrong request fails at once, before Chromium starts or the extract is prepared
        check_data_path(args.data)
        check_destination(args.out, (args.data,))
        if args.data.is_dir():
            check_request(args.data, args.as_of)
    except (PackError, StoreError) as exc:
        raise UserError(str(exc)) from None
    renderer = ChartRenderer()
    try:
        extract = open_for_cli(args.data)
        check_scope(extract, Scope(args.region, (args.team,) if args.team is not None else None))
        scope = scope_from_args(extract, args)
        viewer_teams = user_scope(extract, user).teams if user is not None else None
        write_pack(extract, args.as_of, scope, args.out, progress=terminal_progress(), renderer=renderer,
                   prepared_for=f"{user.email} ({user.role.name})" if user is not None else None,
                   viewer_teams=viewer_teams)
    except PackError as exc:
        raise UserError(str(exc)) from None
    finally:
        renderer.close()
    audit_cli(args, "report", scope, str(args.out))
    print(f"pack written to {args.out}", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def cmd_risk(args) -> int:
    """Homes at risk of damp and mould (housing_assurance/risk.py), or with --backtest how the list has done."""
    from housing_assurance import risk
    from housing_assurance.words import scope_text

    check_settings(args)
    user = user_from_args(args)
    extract = open_for_cli(args.data)
    scope = scope_from_args(extract, args)
    known = risk.RiskStore(extract)  # a prepared store's latest week is read, not learned again
    try:
        if args.backtest:
            result = risk.backtest(extract, args.as_of, scope, replays=known.replays(args.as_of))
        else:
            listed = risk.homes_at_risk(extract, args.as_of, scope, scored=known.scored(args.as_of)).head(args.top)
            if user is not None:
                from housing_assurance.access import user_scope

                listed = risk.for_teams(extract, listed, user_scope(extract, user).teams)
    except risk.RiskError as exc:
        raise UserError(str(exc)) from None
    audit_cli(args, "risk backtest" if args.backtest else "risk", scope, None)
    if args.backtest:
        if args.json:
            print_json({"as_of": args.as_of.isoformat(), "scope": {"region": args.region, "team": args.team},
                        "dates": rows_as_json(result.dates), "mean": result.summary(),
                        "in_words": risk.describe_backtest(result)})
        else:
            print(f"{extract.landlord}: homes at risk back-test before {args.as_of:%d %b %Y}, {scope_text(scope)}")
            with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, float_precision=3):
                print(result.dates)
            print("mean: " + ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} -"
                                       for k, v in result.summary().items()))
            print("\n".join(risk.describe_backtest(result)))
        return 0
    out = listed.select("rank", "property_id", "area", "region", "property_type", "score", "band",
                        pl.col("has_open_dm_case").alias("open_case"), "latest_case_id", "reasons")
    if args.json:
        print_json(rows_as_json(out))
        return 0
    print(f"{extract.landlord}: homes at risk of damp and mould after {args.as_of:%d %b %Y}, {scope_text(scope)} "
          f"(homes without an open case first)")
    for r in out.iter_rows(named=True):
        flag = "  [open case]" if r["open_case"] else ""
        print(f"{r['rank']:>5}  {r['property_id']}  {r['area']}, {r['region']}  {r['property_type']}  "
              f"{100 * r['score']:.1f}% ({r['band']}){flag}")
        for reason in r["reasons"]:
            print(f"         - {reason}")
    return 0


def cmd_audit(args) -> int:
    """`audit verify`: the audit trail's keyed chain checked end to end (the logic is audit.verify)."""
    from housing_assurance import audit

    path = audit.audit_file()
    key = audit.audit_key(path)
    if key is None:
        raise UserError(f"no audit key: set {audit.KEY_ENV} to the key the trail is written with "
                        f"(there is no key file at {audit.key_file(path)})")
    result = audit.verify(path, key)
    if not result.ok:
        raise UserError(f"audit trail {path}: {result}")
    print(result)
    return 0


def cmd_demo_data(args) -> int:
    from housing_assurance.demo import generate
    from housing_assurance.progress import terminal_progress

    try:
        generate(args.out, homes=args.homes, years=args.years, seed=args.seed, end=args.end,
                 progress=terminal_progress())
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"demo extract written to {args.out}", file=sys.stderr)
    return 0


def cmd_prepare(args) -> int:
    """Validate an extract and write its store (into the cache when no --out is given)."""
    from housing_assurance.progress import terminal_progress
    from housing_assurance.store import StoreError, prepare, store_for

    check_settings(args)  # the closure dates go into the store's clocks
    try:
        out = prepare(args.dir, args.out, terminal_progress()) if args.out else store_for(args.dir, terminal_progress())
    except StoreError as exc:
        raise UserError(str(exc)) from None
    print(f"store written to {out}", file=sys.stderr)
    return 0


def cmd_validate(args) -> int:
    from housing_assurance.validate import print_findings, validate

    if not args.dir.is_dir():
        raise UserError(f"no extract folder at {args.dir}")
    findings = validate(args.dir)
    print_findings(findings, as_json=args.json)
    return 1 if any(f.severity == "error" for f in findings) else 0


def _tsm_year(text: str) -> str:
    from housing_assurance.weeks import ReportingYear

    try:
        return ReportingYear.parse(text).label
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_sector(args) -> int:
    """Sector quartiles from the regulator's published TSM files (housing_assurance/sector.py)."""
    from housing_assurance import sector

    try:
        data = sector.load_year(args.year)
    except sector.SectorError as exc:
        raise UserError(str(exc)) from None
    figures = sector.sector_figures(data)
    if args.json:
        print_json({key: q.as_dict() for key, q in figures.items()})
        print(sector.ATTRIBUTION, file=sys.stderr)
    else:
        print(sector.format_figures(data, figures))
    return 0


def cmd_tsm(args) -> int:
    """Our own TSM figures for a reporting year (housing_assurance/tsm.py), whole landlord."""
    from housing_assurance import tsm

    check_settings(args)
    extract = open_for_cli(args.data)
    try:
        ours = tsm.our_figures(extract, args.year)
    except tsm.TsmError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print_json(ours.as_json())
    else:
        print(tsm.format_return(ours, extract.landlord))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m housing_assurance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo-data", help="write a synthetic landlord's extract")
    p.add_argument("--out", type=Path, default=Path("data/demo"))
    p.add_argument("--homes", type=int, default=20000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--end", type=_date, default=None, help="last day of the extract (default today)")
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser("prepare", help="validate an extract and write its store (one DuckDB file) for every command")
    p.add_argument("dir", type=Path, help="the extract folder")
    p.add_argument("--out", type=Path, help="the store to write (default: the cache, HOUSING_ASSURANCE_CACHE)")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("validate", help="validate an extract against the contract")
    p.add_argument("dir", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    def scoped(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, required=True, help="the extract folder, or its prepared store")
        p.add_argument("--as-of", type=_date, required=True, help="last day of the reporting week, YYYY-MM-DD")
        p.add_argument("--region", help="a region as named in the extract")
        p.add_argument("--team", help="a team_id as named in the extract")
        p.add_argument("--as-user", metavar="EMAIL",
                       help="show exactly what this user may see (users in settings/access.toml, "
                            "or the file HOUSING_ASSURANCE_ACCESS names)")

    p = sub.add_parser("kpis", help="every KPI for the reporting week ending on --as-of")
    scoped(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("risk", help="homes at risk of damp and mould in the 13 weeks after --as-of, with reasons")
    scoped(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--backtest", action="store_true",
                   help="instead of the list, how the list did at past dates against the reports that followed")
    p.add_argument("--top", type=_positive, default=100, help="how many homes to list (default 100)")
    p.set_defaults(func=cmd_risk)

    p = sub.add_parser("cases", help="the cases behind one KPI (the app's drill-down)")
    scoped(p)
    p.add_argument("--kpi", required=True, help="a KPI id, e.g. dm.investigated_10wd_pct")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cases)

    p = sub.add_parser("due", help='the "Due soon" list: open clocks falling due in the next 5 working days')
    scoped(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("report", help="write the weekly PDF pack for the week ending --as-of")
    scoped(p)
    p.add_argument("--out", type=Path, required=True, help="the PDF file to write, e.g. pack.pdf")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("sector", help="sector quartiles from the regulator's published TSM files")
    p.add_argument("--year", type=_tsm_year, required=True, help="TSM reporting year, e.g. 2024-25")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sector)

    p = sub.add_parser("tsm", help="our own TSM figures for a reporting year (1 April to 31 March, or to date)")
    p.add_argument("--data", type=Path, required=True, help="the extract folder, or its prepared store")
    p.add_argument("--year", type=_tsm_year, required=True, help="TSM reporting year, e.g. 2024-25")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tsm)

    p = sub.add_parser("audit", help="check the audit trail (HOUSING_ASSURANCE_AUDIT)")
    checks = p.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    checks.add_parser("verify", help="check every entry's mac and sequence with HOUSING_ASSURANCE_AUDIT_KEY")
    p.set_defaults(func=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
