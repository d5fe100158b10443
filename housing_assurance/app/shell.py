"""The app's shell around every page: sign-in, the menu, the sidebar (week, region, team, pack) and the
bookkeeping of a run (who is asking and what they opened)."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

from housing_assurance import audit, routes
from housing_assurance.access import User, no_team_words, user_scope
from housing_assurance.app import data, signin, warm_up
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.state import GLOBAL_PARAMS, WIDGET, View, adopt_url, keep_history, open_notices, refuse
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.settings import SettingsError, check_all
from housing_assurance.store import StoreError, is_store
from housing_assurance.weeks import resolve
from housing_assurance.words import date_text, scope_text, week_text

ICON = Path(__file__).with_name("icon.svg")  # the browser tab's icon, served by the app itself
STYLE = """<style>
.kpi-title {font-weight: 600; font-size: 0.9rem; line-height: 1.3; min-height: 2.6em; color: #1F2933;}
[data-testid="stMetricValue"] {font-size: 2rem;}
.spark {margin: 0.1rem 0 0.6rem 0; line-height: 0;}
.kpi-why {font-size: 0.85rem; line-height: 1.35; color: #8A3B00; margin: 0.2rem 0 0.3rem 0;}
.kpi-why-pending {color: #5F6368; font-style: italic;}
.st-key-url-history, .st-key-url-correct {display: none;}
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] {padding-top: 3.5rem;}
  h1 {font-size: 2rem !important;}
  .st-key-kpi-tiles [data-testid="stHorizontalBlock"] {flex-wrap: wrap; gap: 0.5rem;}
  .st-key-kpi-tiles [data-testid="stColumn"] {flex: 0 0 calc(50% - 0.25rem) !important;
    width: calc(50% - 0.25rem) !important; min-width: calc(50% - 0.25rem) !important;}
  .st-key-kpi-tiles [data-testid="stColumn"]:empty {display: none;}
}
</style>"""

log = logging.getLogger("housing_assurance.app")
_run = threading.local()  # whether app.py is running this script run (it sets the view up)


def pages(user: User) -> list:
    """The menu for this user, from the one page registry (routes.PAGES)."""
    return [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path or None, default=not p.url_path)
            for p in routes.PAGES if not p.administrators_only or user.role.reads_audit]


def sign_in() -> User:
    """Before anything else: who is asking, and that the extract exists (the demo on first start).

    Outside demo mode nobody is let past sign-in before the extract is looked at, so an anonymous
    visitor cannot start the demo's generation. Demo mode reads its users from the demo's own access
    file, which is written with the demo, so there the extract comes first.
    """
    folder = data.data_folder()
    if signin.demo_mode():
        _ensure_extract(folder)
    user = signin.current_user()
    _ensure_extract(folder)
    st.session_state["_user"] = user
    return user


def _ensure_extract(folder: Path) -> None:
    if data.needs_demo(folder):
        with st.spinner(f"Generating the demo landlord's extract in {folder} (first start only, about "
                        "20 seconds)…"):
            data.make_demo(folder)
    if not folder.is_dir() and not is_store(folder):
        st.error(f"No extract folder or prepared store at {plain(folder)}. Set HOUSING_ASSURANCE_DATA to one.")
        st.stop()


def start() -> View:
    """Open the store, read the URL, draw the sidebar for the signed-in user's scope."""
    _run.in_app = True
    if not getattr(_run, "drawing", False):
        _run.drawing = True
        warm_up.page_started()
    try:  # a mistake in a settings file stops every page in one line, before any figure is read
        check_all(access_required=not signin.demo_mode())
    except SettingsError as exc:
        st.error(plain(exc, MESSAGE))
        st.stop()
    folder = data.data_folder()
    if data.needs_preparing(folder):
        with st.spinner("Preparing this extract for the dashboard (once per extract)…"):
            data.store_path(folder)
    try:
        key = data.data_key(folder)
        extract = data.load_extract(key)
    except StoreError as exc:
        st.error(plain(exc, MESSAGE))
        st.stop()
    weeks = data.selectable_weeks(key)
    _run.key = key
    adopt_url()
    open_notices()
    st.markdown(STYLE, unsafe_allow_html=True)
    keep_history()
    user = current_user()
    allowed = user_scope(extract, user)
    if allowed.teams == ():  # a manager no team names: say so rather than show empty figures
        st.warning(plain(no_team_words(user), MESSAGE))
        st.stop()
    view = sidebar(key, weeks, allowed)
    _new_extract_notice(key)
    st.session_state["_view"] = view
    return view


def _new_extract_notice(key: str) -> None:
    """When a new week's store has replaced the one this session was reading, say which one it now shows."""
    seen = st.session_state.get("_store_key")
    st.session_state["_store_key"] = key
    if seen is not None and seen != key:
        extract = data.load_extract(key)
        st.info(f"A new extract has arrived: now showing {plain(extract.landlord)}'s data extracted "
                f"{date_text(extract.extracted_at)}.", icon=":material/update:")


def finish() -> None:
    """The run is over: once per store, what every page's first look needs starts being worked out while
    this page is read (warm_up.py), never slowing the page the first visitor is waiting for."""
    _run.in_app = False
    if getattr(_run, "drawing", False):
        _run.drawing = False
        warm_up.page_ended()
    key, _run.key = getattr(_run, "key", None), None
    if key is not None:
        warm_up.warm_up(key)


def unexpected(exc: Exception) -> None:
    """An error nobody planned for: the server log has the traceback under a short reference, and the
    reader sees only that reference (never file paths, code or data)."""
    reference = secrets.token_hex(4)
    log.error("unexpected error, reference %s", reference, exc_info=exc)
    st.error(f"Something went wrong on this page. If it happens again, please tell your administrator "
             f"the reference {reference}.", icon=":material/error:")


def current_view() -> View:
    """The view app.py set up for this run.

    Streamlit runs a file of pages/ on its own when it has not yet seen st.navigation in this
    process (its older pages-folder convention: the server's first request for such a page, and
    AppTest after switch_page). Then this page declares the app's pages with st.navigation, which
    ends that convention for the process, and reruns, so that app.py sets the view up.
    """
    if not getattr(_run, "in_app", False):
        st.navigation([st.Page(p.file, url_path=p.url_path or None, default=not p.url_path)
                       for p in routes.PAGES], position="hidden")
        st.rerun()
    return st.session_state["_view"]


def current_user() -> User:
    """The signed-in user of this session (set by sign_in())."""
    return st.session_state["_user"]


def sees_details(page: str) -> bool:
    """Vulnerability types appear only on the Vulnerability page, and only to roles allowed to see them."""
    return page == "vu" and current_user().role.sees_vulnerability_details


def _record(view: View, action: str, target: str) -> bool:
    """Append to the audit trail; when it cannot be written the user is told and the app goes on."""
    if audit.record(current_user().email, action, view.scope, target, view.as_of.isoformat()):
        return True
    st.toast("This could not be recorded in the audit trail. Please tell an administrator.", icon=":material/error:")
    return False


def audit_once(view: View, action: str, target: str) -> None:
    """Record what the user opened, once per session and view (a rerun is not a new look)."""
    seen = st.session_state.setdefault("_audited", set())
    key = (action, target, view.as_of, view.scope_args)
    if key not in seen and _record(view, action, target):
        seen.add(key)


def audit_export(view: View, what: str) -> None:
    _record(view, "export", what)


def _week_label(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"Week ending {d:%a} {date_text(d)}"


def _step_week(weeks: list[str], step: int) -> None:
    current = st.session_state.get(WIDGET + "as_of", weeks[0])
    i = weeks.index(current) if current in weeks else 0
    st.session_state[WIDGET + "as_of"] = weeks[min(max(i + step, 0), len(weeks) - 1)]


def sidebar(key: str, weeks: list[date], allowed: Scope = WHOLE_LANDLORD) -> View:
    """Reporting week (with previous/next), region and team; returns the view they define."""
    extract = data.load_extract(key)
    regions, teams = data.regions(key), data.teams(key)
    if allowed.teams is not None:  # a manager picks among their own teams
        teams = teams.filter(pl.col("team_id").is_in(list(allowed.teams)))
        regions = [r for r in regions if r in set(teams["region"].to_list())]
    iso_weeks = [w.isoformat() for w in weeks]
    as_of_key, region_key, team_key = (WIDGET + n for n in GLOBAL_PARAMS)
    asked = st.session_state.get(as_of_key)
    chosen, note = resolve(asked, weeks)
    if note:
        refuse("The week", asked, f"is {note}")
    st.session_state[as_of_key] = chosen.isoformat()
    region = st.session_state.get(region_key) or ""
    if region and region not in regions:
        refuse("The region", region, "is not one you can see in this extract; showing "
               + ("all your teams." if allowed.teams is not None else "the whole landlord."))
        region = ""
    st.session_state[region_key] = region
    team_ids = teams.filter(pl.col("region") == region) if region else teams
    team = st.session_state.get(team_key) or ""
    if team and team not in teams["team_id"].to_list():
        refuse("The team", team, "is not one you can see in this extract; showing "
               + ("all your teams." if allowed.teams is not None else "every team."))
        team = ""
    elif team and team not in team_ids["team_id"].to_list():
        team = ""  # the team is not in the region just chosen
    st.session_state[team_key] = team
    names = dict(zip(teams["team_id"].to_list(), teams["team_name"].to_list(), strict=True))

    with st.sidebar:
        st.markdown(f"**{plain(extract.landlord)}**")
        st.selectbox("Reporting week", iso_weeks, key=as_of_key, format_func=_week_label,
                     help="Monday to Sunday. The latest is the last complete week before the extract was taken.")
        left, right = st.columns(2)
        i = iso_weeks.index(st.session_state[as_of_key])
        left.button("◀ Previous", on_click=_step_week, args=(iso_weeks, 1), disabled=i == len(iso_weeks) - 1,
                    width="stretch", key="prev_week")
        right.button("Next ▶", on_click=_step_week, args=(iso_weeks, -1), disabled=i == 0, width="stretch",
                     key="next_week")
        st.selectbox("Region", [""] + regions, key=region_key,
                     format_func=lambda r: r or "All regions")
        st.selectbox("Team", [""] + team_ids["team_id"].to_list(), key=team_key,
                     format_func=lambda t: names.get(t, t) if t else (
                         "All my teams" if allowed.teams is not None else "All teams"))
        extracted = extract.extracted_at
        if extracted:
            st.caption(f"Data extracted {date_text(extracted)}.")
        else:  # why the weeks end where they do
            st.warning(plain(extract.manifest_problem or "The manifest gives no extract date: the weeks end "
                             "at the last week before the latest record.", MESSAGE))
    view = View(key=key, as_of=date.fromisoformat(st.session_state[as_of_key]),
                region=st.session_state[region_key] or None, team=st.session_state[team_key] or None,
                allowed=allowed, weeks=tuple(weeks))
    with st.sidebar:
        pack_button(view)
    return view


def _ask_for_pack(wanted: tuple) -> None:
    st.session_state["_pack_asked"] = wanted


def pack_button(view: View) -> None:
    """The weekly PDF pack for this week and scope: built on request (it takes seconds), then offered."""
    ready = st.session_state.get("_pack")
    wanted = (view.key, view.as_of, view.scope_args)
    if ready is not None and ready[0] == wanted:
        st.download_button("Download the PDF pack", ready[1], file_name=ready[2], mime="application/pdf",
                           icon=":material/picture_as_pdf:", width="stretch", key="pack_download",
                           on_click=audit_export, args=(view, ready[2]))
        return
    # The request is kept by a callback, not read from the button's value: a rerun that starts before
    # this line is reached (the app's own, on a first visit) would otherwise lose the click.
    st.button("Prepare the PDF pack", icon=":material/picture_as_pdf:", width="stretch", key="pack_build",
              help="The weekly pack for this week and scope, as the scheduler produces it.",
              on_click=_ask_for_pack, args=(wanted,))
    if st.session_state.pop("_pack_asked", None) == wanted:
        from housing_assurance.pack import PackError, build_pack

        bar = st.progress(0.0, text="Preparing the pack…")
        from housing_assurance.app.review_page import review_store
        from housing_assurance.review.database import database_url
        from housing_assurance.review.pack_section import pack_review
        from housing_assurance.review.store import ReviewError

        try:
            user = current_user()
            review = review_store(database_url())
            whole = view.scope.region is None and view.scope.teams is None
            if whole and review.signoff_for(view.as_of) is not None:  # as `report`: the pack as signed off
                pdf = review.signed_off_pdf(user, view.allowed, view.as_of)
            else:  # the committee's review in it, as `report` puts it
                extract = data.load_extract(view.key)
                section = pack_review(review, extract, view.as_of, view.scope, user, view.allowed,
                                      figures=data.store(view.key))
                pdf = build_pack(extract, view.as_of, view.scope,
                                 progress=lambda stage, f: bar.progress(min(max(f, 0.0), 1.0), text=stage),
                                 prepared_for=f"{user.email} ({user.role.name})",
                                 risk_scores=data.risk_scores(view.key, view.as_of), viewer_teams=view.allowed.teams,
                                 review=section)
        except (PackError, ReviewError) as exc:  # a pack refused, or an archived one that no longer matches
            bar.empty()
            st.error(plain(exc, MESSAGE))
            return
        bar.empty()
        name = f"assurance_pack_{view.as_of}{'_' + view.region if view.region else ''}" \
               f"{'_' + view.team if view.team else ''}.pdf"
        st.session_state["_pack"] = (wanted, pdf, name)
        st.rerun()


def scope_words(view: View) -> str:
    """The scope in words as this user has it: a manager reads "Your teams: Damp and Mould North" (or the
    one team or region chosen among them), never "Whole landlord"."""
    names = data.team_names(view.key)
    if view.allowed.teams is not None and view.team is None:
        teams = ", ".join(names.get(t, t) for t in view.allowed.teams) or "none"
        mine = f"Your team{'s' if len(view.allowed.teams) != 1 else ''}: {teams}"
        return f"{view.region} region · {mine}" if view.region else mine
    return scope_text(Scope(view.region, (view.team,) if view.team else None), names)


def header(title: str, view: View, intro: str | None = None, scorecard: bool = True) -> None:
    """A page's title, scope and week, and (for pages of KPI tiles) how to read a tile."""
    st.title(title)
    st.markdown(f"**{plain(scope_words(view))}** · {week_text(view.as_of)}")
    if intro:
        st.caption(intro)
    if scorecard:
        st.caption("Each figure shows its change since the previous week (green: better, vermillion: worse, grey: a "
                   "volume with no better direction), its status against target in words, and its last 13 weeks.")
