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
        extract = open_data(data, terminal_progress())
    except StoreError as exc:
        raise UserError(str(exc)) from None
    # What the extract could not give is said before any figure: a figure that counts an unusable table's
    # rows is empty (null), and without a usable manifest no week is known to be complete.
    if extract.manifest_problem:
        print(f"note: the extract at {extract.path} has no usable manifest ({extract.manifest_problem})",
              file=sys.stderr)
    unusable = extract.unusable_text()
    if unusable:
        print(f"note: {unusable}: the figures that count its rows are empty; run "
              f"`python -m housing_assurance validate {extract.path}`", file=sys.stderr)
    return extract


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
    """A count, or a sum of counts (the rows behind warnings), is a whole number in the JSON (42, not 42.0);
    every other value as computed, unrounded."""
    whole = k.kind in ("count", "sum") and value is not None and math.isfinite(value)
    return int(value) if whole else value


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
            "scope": scope.as_json(),  # what the figures are for: --as-user narrows --region and --team
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
    """The weekly PDF pack (housing_assurance/pack/) with the committee's review; Chromium boots while the
    extract loads. A signed-off week's whole-landlord pack is the archived one, byte for byte."""
    from housing_assurance.access import user_scope
    from housing_assurance.pack import (
        ChartRenderer,
        PackError,
        check_destination,
        check_request,
        check_scope,
        write_pack,
    )
    from housing_assurance.pack.render import write_atomically
    from housing_assurance.progress import terminal_progress
    from housing_assurance.scope import WHOLE_LANDLORD, Scope
    from housing_assurance.store import StoreError, check_data_path

    check_settings(args)
    user = user_from_args(args)
    settings = email_settings() if args.email else None
    try:  # a wrong request fails at once, before Chromium starts or the extract is prepared
        check_data_path(args.data)
        check_destination(args.out, (args.data,))
        if args.data.is_dir():
            check_request(args.data, args.as_of)
    except (PackError, StoreError) as exc:
        raise UserError(str(exc)) from None
    review = open_review()
    whole = args.region is None and args.team is None and (user is None or user.role.whole_landlord)
    signoff = review.signoff_for(args.as_of) if whole else None
    if args.email and signoff is None:
        raise UserError("--email sends the whole landlord's signed-off pack: " + (
            f"the week ending {args.as_of.isoformat()} is not signed off (review signoff)" if whole else
            "leave out --region and --team (and --as-user for a manager)"))
    reader = user or operator()
    # Chromium boots (a few seconds) while the extract opens and the figures are computed; a signed-off week's
    # pack is the archived one, and needs no browser.
    renderer = None if signoff is not None else ChartRenderer()
    try:
        from housing_assurance.review.pack_section import pack_review

        if signoff is not None:  # the pack exactly as signed off, never a new one
            pdf = review_call(review.signed_off_pdf, reader, WHOLE_LANDLORD, args.as_of)
            check_destination(args.out, (args.data,))
            write_atomically(pdf, args.out)
            scope = WHOLE_LANDLORD
            print(f"the pack signed off by {signoff.signed_by} (SHA-256 {signoff.pdf_sha256}) written to {args.out}",
                  file=sys.stderr)
        else:
            extract = open_for_cli(args.data)
            check_scope(extract, Scope(args.region, (args.team,) if args.team is not None else None))
            scope = scope_from_args(extract, args)
            allowed = user_scope(extract, user) if user is not None else WHOLE_LANDLORD
            section = review_call(pack_review, review, extract, args.as_of, scope, reader, allowed)
            write_pack(extract, args.as_of, scope, args.out, progress=terminal_progress(), renderer=renderer,
                       prepared_for=f"{user.email} ({user.role.name})" if user is not None else None,
                       viewer_teams=allowed.teams, review=section)
            print(f"pack written to {args.out}", file=sys.stderr)
    except PackError as exc:
        raise UserError(str(exc)) from None
    finally:
        if renderer is not None:
            renderer.close()
    audit_cli(args, "report", scope, str(args.out))
    if settings is not None:
        sent = send_signed_pack(review, reader, args, landlord_of(args.data), settings)
        print(f"the signed-off pack sent to {', '.join(sent)}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------- the review


def open_review():
    """The review database (HOUSING_ASSURANCE_DB, else data/review.sqlite3), migrated; writes are audited as
    made from the command line on behalf of --as-user."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from housing_assurance import audit
    from housing_assurance.review.database import database_url
    from housing_assurance.review.store import open_store

    try:
        return open_store(actor=audit.command_line_actor())
    except (SQLAlchemyError, OSError) as exc:
        where = make_url(database_url()).render_as_string(hide_password=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"the review database {where} cannot be opened: {first}") from None


def review_call(function, *args, **kwargs):
    """A review function, its refusals (permission, input, conflict, sign-off) as one line."""
    from housing_assurance.review.store import ReviewError

    try:
        return function(*args, **kwargs)
    except ReviewError as exc:
        raise UserError(str(exc)) from None


def operator():
    """Who reads the review when no --as-user is given: the operator of the command, who sees everything."""
    from housing_assurance import audit
    from housing_assurance.access import ROLES, User

    return User(audit.command_line_actor(), ROLES["analyst"])


def email_settings():
    """settings/review.toml's [email] table and the SMTP login from the environment, checked before any work."""
    from housing_assurance.review.mail import MailSettingsError, load_email_settings, smtp_credentials

    try:
        return load_email_settings(), smtp_credentials()
    except MailSettingsError as exc:
        raise UserError(str(exc)) from None


def landlord_of(data: Path) -> str:
    """The landlord's name for an e-mail: an extract folder's manifest (no table read), else the store's."""
    from housing_assurance.db import read_manifest

    if data.is_dir() and (named := read_manifest(data)[0].get("landlord")):
        return str(named)
    return open_for_cli(data).landlord


def send_signed_pack(review, reader, args, landlord: str, settings) -> list[str]:
    from housing_assurance import audit
    from housing_assurance.review.mail import MailError
    from housing_assurance.review.weekly import email_signed_pack
    from housing_assurance.scope import WHOLE_LANDLORD

    try:
        return review_call(email_signed_pack, review, reader, WHOLE_LANDLORD, args.as_of, landlord,
                           actor=audit.command_line_actor(), on_behalf_of=args.as_user, settings=settings[0],
                           credentials=settings[1])
    except MailError as exc:
        raise UserError(str(exc)) from None


def review_week(extract, args) -> None:
    """The review is kept by the app's weeks: a Sunday the extract can report."""
    from housing_assurance.review.weekly import week_problem

    problem = week_problem(extract, args.as_of)
    if problem:
        raise UserError(problem)


def _commentary_json(c) -> dict:
    a = c.action
    return {"id": c.id, "kpi_id": c.figure.kpi_id, "as_of": c.figure.as_of, "region": c.figure.region,
            "team": c.figure.team, "version": c.version, "text": c.text, "author": c.author,
            "written_at": c.written_at,
            "action": None if a is None else {"what": a.what, "owner": a.owner, "due": a.due, "status": a.status}}


def cmd_review_comment(args) -> int:
    """Write (or, with --based-on, edit) the commentary on one figure, with an optional action."""
    from housing_assurance.access import user_scope
    from housing_assurance.review.store import Action, EditConflict, Figure, ReviewError
    from housing_assurance.scope import unknown_names

    parts = (args.action, args.owner, args.due)
    if any(p is not None for p in parts) and any(p is None for p in parts):
        args.parser.error("an action needs all of --action, --owner and --due")
    check_settings(args)
    user = user_from_args(args)
    extract = open_for_cli(args.data)
    review_week(extract, args)
    problems = unknown_names(extract, args.region, (args.team,) if args.team is not None else None)
    if problems:
        raise UserError(problems[0])
    review = open_review()
    figure = Figure(args.kpi, args.as_of, args.region, args.team)
    action = Action(args.action, args.owner, args.due) if args.action is not None else None
    try:
        written = review.comment(user, user_scope(extract, user), figure, args.text, based_on=args.based_on,
                                 action=action)
    except EditConflict as exc:  # nothing is overwritten: say what is there, and how to save over it knowingly
        theirs = exc.current
        raise UserError(f"{exc}. Their text: {json.dumps(theirs.text, ensure_ascii=False)}. To save yours instead, "
                        f"run again with --based-on {theirs.version}") from None
    except ReviewError as exc:
        raise UserError(str(exc)) from None
    print_json(_commentary_json(written))
    return 0


def cmd_review_signoff(args) -> int:
    """Sign off the week for the whole landlord: refused at once, naming every red KPI without commentary,
    or for a user who may not; otherwise the week's pack is built and archived with the figures."""
    from housing_assurance.access import user_scope
    from housing_assurance.figures import FigureStore
    from housing_assurance.pack import ChartRenderer, PackError, build_pack
    from housing_assurance.progress import terminal_progress
    from housing_assurance.review.weekly import red_kpis, sign_off_week

    check_settings(args)
    user = user_from_args(args)
    extract = open_for_cli(args.data)
    review_week(extract, args)
    review = open_review()
    allowed = user_scope(extract, user)
    figures = FigureStore(extract)
    red = red_kpis(figures, args.as_of)
    review_call(review.check_sign_off, user, allowed, args.as_of, red)  # before Chromium starts: milliseconds
    renderer = ChartRenderer()
    try:
        signed = review_call(sign_off_week, review, extract, user, allowed, args.as_of, figures=figures,
                             progress=terminal_progress(), build=lambda **pack: build_pack(renderer=renderer, **pack))
    except PackError as exc:
        raise UserError(str(exc)) from None
    finally:
        renderer.close()
    print_json({"as_of": signed.as_of, "signed_by": signed.signed_by, "signed_at": signed.signed_at,
                "pdf_filename": signed.pdf_filename, "pdf_sha256": signed.pdf_sha256, "red_kpis": red})
    print(f"the week ending {args.as_of.isoformat()} is signed off; its pack is archived in the review database "
          "(`report` writes it out)", file=sys.stderr)
    return 0


def _tracked_json(t) -> dict:
    a = t.action
    return {"commentary_id": t.commentary_id, "version": t.version, "kpi_id": t.figure.kpi_id,
            "as_of": t.figure.as_of, "region": t.figure.region, "team": t.figure.team, "what": a.what,
            "owner": a.owner, "due": a.due, "status": a.status, "carried_forward": t.carried_forward}


def _signoff_json(s) -> dict | None:
    return None if s is None else {"as_of": s.as_of, "signed_by": s.signed_by, "signed_at": s.signed_at,
                                   "pdf_filename": s.pdf_filename, "pdf_sha256": s.pdf_sha256,
                                   "extract_taken_at": s.extract_taken_at}


def _restated_json(week) -> dict:
    return {**_signoff_json(week.signoff), "problem": week.problem, "figures": [
        {"kpi_id": r.kpi_id, "signed": {"value": r.signed.value, "numerator": r.signed.numerator,
                                        "denominator": r.signed.denominator},
         "now": {"value": r.value, "numerator": r.numerator, "denominator": r.denominator},
         "records": None if r.records is None else [{"id": c.id, "change": c.change, "dated": c.dated}
                                                    for c in r.records]}
        for r in week.figures]}


def cmd_review_show(args) -> int:
    """The week's commentaries, actions, sign-off and (for whole-landlord readers) restatements."""
    from housing_assurance.access import user_scope
    from housing_assurance.figures import FigureStore
    from housing_assurance.review.restatements import restatements
    from housing_assurance.review.store import missing_commentary
    from housing_assurance.review.weekly import red_kpis
    from housing_assurance.scope import WHOLE_LANDLORD
    from housing_assurance.words import date_text, scope_text

    check_settings(args)
    user = user_from_args(args)
    extract = open_for_cli(args.data)
    review_week(extract, args)
    review = open_review()
    reader = user or operator()
    allowed = user_scope(extract, user) if user is not None else WHOLE_LANDLORD
    written = review_call(review.week_commentaries, reader, allowed, args.as_of)
    tracker = review_call(review.action_tracker, reader, allowed, args.as_of)
    signoff = review.signoff_for(args.as_of)
    whole = allowed == WHOLE_LANDLORD
    figures = FigureStore(extract)
    missing = missing_commentary(red_kpis(figures, args.as_of), written) if whole else None
    restated = review_call(restatements, review, extract, reader, allowed, figures=figures) if whole else None
    audit_cli(args, "review_show", allowed, None)
    if args.json:
        print_json({
            "as_of": args.as_of, "signoff": _signoff_json(signoff), "red_without_commentary": missing,
            "commentaries": [_commentary_json(c) for c in written],
            "actions": {"open": [_tracked_json(t) for t in tracker.open],
                        "due_this_week": [_tracked_json(t) for t in tracker.due_this_week],
                        "overdue": [_tracked_json(t) for t in tracker.overdue],
                        "by_owner": {o: [t.commentary_id for t in ts] for o, ts in tracker.by_owner.items()}},
            "restatements": None if restated is None else [_restated_json(w) for w in restated
                                                           if w.figures or w.problem],
        })
        return 0
    print(f"{extract.landlord}: the weekly review, week ending {date_text(args.as_of)}")
    print(f"Sign-off: {'signed off by ' + signoff.signed_by + ' at ' + date_text(signoff.signed_at) + ' UTC'}"
          if signoff else "Sign-off: not signed off")
    if missing:
        print(f"Red without a whole-landlord commentary: {', '.join(missing)}")
    print(f"Commentaries ({len(written)}):")
    for c in written:
        a = c.action
        print(f"  {c.figure.kpi_id} [{scope_text(c.figure.scope)}] v{c.version} {c.author}: {' '.join(c.text.split())}")
        if a is not None:
            print(f"      action: {a.what} (owner {a.owner}, due {date_text(a.due)}, {a.status})")
    for title, tracked in (("Overdue", tracker.overdue), ("Due this week", tracker.due_this_week),
                           ("Open", tracker.open)):
        print(f"{title} ({len(tracked)}):")
        for t in tracked:
            flag = " (carried forward)" if t.carried_forward else ""
            print(f"  {t.action.what} (owner {t.action.owner}, due {date_text(t.action.due)}, {t.action.status}) "
                  f"on {t.figure.kpi_id}{flag}")
    for w in restated or []:
        if w.figures or w.problem:
            print(f"Restated, week ending {date_text(w.signoff.as_of)}: " + (w.problem or ", ".join(
                f"{r.kpi_id} {r.signed.value} -> {r.value}" for r in w.figures)))
    return 0


def cmd_review_digest(args) -> int:
    """Each manager's weekly digest of their teams' overdue clocks and those due soon, by e-mail."""
    from housing_assurance.access import AccessError, load_users
    from housing_assurance.review.digest import manager_digests
    from housing_assurance.review.mail import MailError, send
    from housing_assurance.scope import WHOLE_LANDLORD

    args.as_user = None
    check_settings(args)
    try:
        users = load_users()
    except AccessError as exc:
        raise UserError(str(exc)) from None
    settings, credentials = email_settings()
    extract = open_for_cli(args.data)
    review_week(extract, args)
    digests = manager_digests(extract, args.as_of, users, settings)
    audit_cli(args, "review_digest", WHOLE_LANDLORD, f"{sum(d.message is not None for d in digests)} managers")
    failed = []
    sent = {}
    for d in digests:
        sent[d.manager] = False
        if d.message is None or args.dry_run:
            continue
        try:
            send(settings, d.message, credentials)
            sent[d.manager] = True
        except MailError as exc:
            failed.append(str(exc))
    print_json([{"manager": d.manager, "teams": list(d.teams), "overdue": d.overdue, "due_soon": d.due_soon,
                 "subject": d.message["Subject"] if d.message is not None else None, "sent": sent[d.manager]}
                for d in digests])
    for d in digests:
        if d.message is None:
            print(f"note: no team in this extract names {d.manager} as its manager: no digest", file=sys.stderr)
    if failed:
        raise UserError(f"{len(failed)} digest{'s' if len(failed) > 1 else ''} not sent: {'; '.join(failed)}")
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
            print_json({"as_of": args.as_of.isoformat(), "scope": scope.as_json(),
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
    gap = tsm.coverage_gap(extract, tsm.reporting_year(args.year))
    if gap:  # the figures are kpis.md's over what the extract holds; the reader is told they are understated
        print(f"note: {gap}; the figures count only what it holds", file=sys.stderr)
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

    def scoped(p: argparse.ArgumentParser, region_or_team: bool = False) -> None:
        """The data, the week and the scope; `region_or_team`: --region and --team exclude each other, as
        interfaces.md writes `[--region R | --team T]` (`due`)."""
        p.add_argument("--data", type=Path, required=True, help="the extract folder, or its prepared store")
        p.add_argument("--as-of", type=_date, required=True, help="last day of the reporting week, YYYY-MM-DD")
        where = p.add_mutually_exclusive_group() if region_or_team else p
        where.add_argument("--region", help="a region as named in the extract")
        where.add_argument("--team", help="a team_id as named in the extract")
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
    scoped(p, region_or_team=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("report", help="write the weekly PDF pack for the week ending --as-of")
    scoped(p)
    p.add_argument("--out", type=Path, required=True, help="the PDF file to write, e.g. pack.pdf")
    p.add_argument("--email", action="store_true",
                   help="also send the signed-off pack to the distribution list in settings/review.toml")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("review", help="the committee's weekly review: commentary, actions, sign-off, digest")
    review = p.add_subparsers(dest="review_command", required=True, metavar="SUBCOMMAND")

    def week(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, required=True, help="the extract folder, or its prepared store")
        p.add_argument("--as-of", type=_date, required=True, help="the week's Sunday, YYYY-MM-DD")

    p = review.add_parser("comment", help="write the commentary (and an action) on one figure of a week")
    week(p)
    p.add_argument("--kpi", required=True, help="a KPI id, e.g. dm.overdue_open_cases")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--region", help="a region's figure (default: the whole landlord's)")
    where.add_argument("--team", help="a team's figure, by team_id")
    p.add_argument("--text", required=True, help="the commentary")
    p.add_argument("--action", help="what will be done (with --owner and --due)")
    p.add_argument("--owner", metavar="EMAIL", help="who will do it")
    p.add_argument("--due", type=_date, help="by when, YYYY-MM-DD")
    p.add_argument("--based-on", type=_positive, metavar="VERSION",
                   help="edit the commentary: the version you read (`review show`); without it, only a first one")
    p.add_argument("--as-user", metavar="EMAIL", required=True, help="who writes it (settings/access.toml)")
    p.set_defaults(func=cmd_review_comment, parser=p)

    p = review.add_parser("signoff", help="sign off a week for the whole landlord (executives)")
    week(p)
    p.add_argument("--as-user", metavar="EMAIL", required=True, help="the executive signing off")
    p.set_defaults(func=cmd_review_signoff)

    p = review.add_parser("show", help="a week's commentaries, actions, sign-off and restatements")
    week(p)
    p.add_argument("--as-user", metavar="EMAIL", help="show what this user may see")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_review_show)

    p = review.add_parser("digest", help="e-mail each manager their teams' overdue clocks and those due soon")
    week(p)
    p.add_argument("--dry-run", action="store_true", help="build the e-mails and list them; send nothing")
    p.set_defaults(func=cmd_review_digest)

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
