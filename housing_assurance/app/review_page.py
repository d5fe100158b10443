"""The Weekly review page: the week's red and amber figures and their commentary, the action tracker,
the sign-off and restatements of signed-off weeks.

What may be done comes from the review store's rules (managers write on their own teams' figures,
executives on any and sign off, analysts and administrators read). Every save names the version the
user started from, kept in the session when the form was first shown, so that a commentary saved by
someone else meanwhile is never overwritten: the page shows both texts and asks. Saves run in the
forms' callbacks, before the page is read again. Everything people typed is shown through
markup.plain (commentary is hostile input) or in a table, which shows text as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from housing_assurance.access import AccessError, User, load_users
from housing_assurance.app import data
from housing_assurance.app.blocks import WHY_PENDING, fill_why, why_later
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.shell import audit_once, current_user, header
from housing_assurance.app.state import View, write_url
from housing_assurance.app.tables import grid
from housing_assurance.kpis import CATALOGUE, KPIS
from housing_assurance.review import mail
from housing_assurance.review.database import database_url
from housing_assurance.review.restatements import RestatedWeek, restatements
from housing_assurance.review.store import (
    ACTION_STATUSES,
    Action,
    Commentary,
    EditConflict,
    Figure,
    ReviewError,
    ReviewStore,
    SignOff,
    TrackedAction,
    may_sign_off,
    may_write,
    missing_commentary,
    open_store,
)
from housing_assurance.review.weekly import (
    commentary_scope,
    email_signed_pack,
    figures_to_explain,
    red_kpis,
    sign_off_week,
)
from housing_assurance.scope import WHOLE_LANDLORD
from housing_assurance.targets import status, targets
from housing_assurance.words import date_text, local_text, plural, ratio_text, scope_text, target_text, value_text

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

TEXT = 4000  # the longest commentary the form takes, and shows
INTRO = ("The committee's review of the week: every figure off or near target with its commentary, the actions "
         "agreed and who owns them, and the sign-off. A red figure needs a whole-landlord commentary before the "
         "week can be signed off; signing off archives the week's pack exactly as signed.")
_PREFIX = "review:"


@st.cache_resource(show_spinner=False, max_entries=2)
def review_store(url: str) -> ReviewStore:
    """One review store (its connection pool) per database, shared by every session; migrated when opened."""
    return open_store(url)


@st.cache_data(show_spinner=False, max_entries=16)
def restated(key: str, signoffs: tuple[tuple[date, str], ...], _store: ReviewStore, _user: User) -> list[RestatedWeek]:
    """Every signed-off week checked against this store's extract (cached by extract and sign-offs)."""
    return restatements(_store, data.load_extract(key), _user, WHOLE_LANDLORD, figures=data.store(key))


@dataclass(frozen=True)
class Outcome:
    """What the last save said, shown once on the next run."""

    kind: str  # success, error
    text: str


def _key(figure: Figure) -> str:
    return f"{figure.kpi_id}|{figure.as_of}|{figure.region or ''}|{figure.team or ''}"


def _say(where: str, kind: str, text: str) -> None:
    st.session_state[_PREFIX + "said:" + where] = Outcome(kind, text)


def _show_said(where: str) -> None:
    said = st.session_state.pop(_PREFIX + "said:" + where, None)
    if said is not None:
        (st.success if said.kind == "success" else st.error)(plain(said.text, MESSAGE))


def review_page(view: View) -> None:
    header("Weekly review", view, INTRO, scorecard=False)
    user = current_user()
    try:
        store = review_store(database_url())
    except (SQLAlchemyError, OSError) as exc:
        st.error(plain(f"The review database cannot be opened: {str(exc).splitlines()[0]}", MESSAGE))
        write_url(view)
        return
    audit_once(view, "review_page", "weekly review")
    signoff = store.signoff_for(view.as_of)
    st.markdown(_signoff_words(signoff))
    explained, why_slots = figures_section(view, store, user)
    tracker_section(view, store, user)
    if view.allowed.is_whole_landlord:
        signoff_section(view, store, user, signoff)
        restatements_section(view, store, user)
    fill_why(view, explained, why_slots, _why_markdown)  # the page is drawn: each figure's why follows
    write_url(view)


def _why_markdown(text: str) -> str:
    return f"**Why:** {plain(text, MESSAGE)}"


def _signoff_words(signoff: SignOff | None) -> str:
    if signoff is None:
        return "**Not signed off yet.**"
    return f"**Signed off** by {plain(signoff.signed_by)} on {local_text(signoff.signed_at)}."


# ---------------------------------------------------------------------------------------------- figures


def figures_section(view: View, store: ReviewStore, user: User) -> tuple[list[dict], dict[str, DeltaGenerator]]:
    """The figures to explain with their commentaries; returns those figures and the places kept for their
    lines of why (filled by fill_why once the page is drawn)."""
    st.subheader("Figures off or near target")
    where = commentary_scope(view.scope)
    if where is None:
        st.info("A commentary is on one team's figures: choose one of your teams in the sidebar to read and write "
                "its commentary.")
        return [], {}
    written = store.week_commentaries(user, view.allowed, view.as_of)
    items = figures_to_explain(data.store(view.key), view.as_of, view.scope, written)
    red = [i for i in items if i.rag == "red"]
    bare = sum(1 for i in red if i.commentary is None)
    whose = plain(scope_text(view.scope, data.team_names(view.key)))
    st.caption(f"{plural(len(red), 'figure')} off target ({bare:,} without commentary) and "
               f"{plural(len(items) - len(red), 'figure')} near target, for {whose}. "
               "Open a figure to read or write its commentary.")
    if not items:
        st.success("Every figure with a target is on target this week.")
    goals = targets()
    owners = _owners()
    why_slots = {}
    for item in items:
        k = KPIS[item.kpi_id]
        shown = status(item.rag, item.value)
        said = "commentary written" if item.commentary else "no commentary yet"
        # Open while its form is in use: a save changes the label, and a new label is a new expander to the
        # browser, which would close on the "Saved" it says.
        with st.expander(f"{shown.symbol} {shown.word} · {plain(k.title)}: **{value_text(k, item.value)}** · {said}",
                         expanded=_PREFIX + "base:" + _key(item.figure) in st.session_state):
            detail = f"Target {target_text(k, goals.get(k.id))}"
            if item.denominator is not None:
                detail += f" · {ratio_text(k, item.numerator, item.denominator)}"
            st.caption(f"{detail} · KPI id {k.id}")
            # the same reason as the overview's tile (why.py), for whoever writes the commentary
            why_slots[k.id] = why_later(f"**Why:** *{WHY_PENDING}*")
            commentary_block(store, user, view, item.figure, item.commentary, owners)
    shown = {i.kpi_id for i in items}
    other = [c for c in written if (c.figure.region, c.figure.team) == where and c.figure.kpi_id not in shown]
    if other:
        st.markdown("**Commentary on other figures this week**")
        for c in other:
            with st.expander(f"{plain(KPIS[c.figure.kpi_id].title)} · commentary written",
                             expanded=_PREFIX + "base:" + _key(c.figure) in st.session_state):
                commentary_block(store, user, view, c.figure, c, owners)
    if may_write(user, view.allowed, Figure("", view.as_of, *where)):
        with st.expander("Write a commentary on another figure"):
            ids = [k.id for k in CATALOGUE if k.id not in shown | {c.figure.kpi_id for c in other}]
            chosen = st.selectbox("Figure", ids, format_func=lambda i: KPIS[i].title, key=_PREFIX + "other")
            current = next((c for c in written if c.figure.kpi_id == chosen
                            and (c.figure.region, c.figure.team) == where), None)
            commentary_block(store, user, view, Figure(chosen, view.as_of, *where), current, owners)
    explained = [{"kpi_id": i.kpi_id, "rag": i.rag, "value": i.value, "numerator": i.numerator,
                  "denominator": i.denominator} for i in items]
    return explained, why_slots


def _owners() -> list[str]:
    """Who may own an action: the users in the access file."""
    try:
        return sorted(load_users())
    except AccessError:
        return [current_user().email]


def commentary_block(store: ReviewStore, user: User, view: View, figure: Figure, current: Commentary | None,
                     owners: list[str]) -> None:
    """The commentary on one figure, and (for those who may write it) the form to write or edit it; `owners`
    those who may own its action (the access file, read once for the page)."""
    key = _key(figure)
    if current is not None:
        st.markdown(plain(current.text, TEXT))
        st.caption(f"{plain(current.author)}, {local_text(current.written_at)}"
                   + (f" · version {current.version}" if current.version > 1 else ""))
        if current.action is not None:
            a = current.action
            st.markdown(f"**Action:** {plain(a.what, TEXT)} · owner {plain(a.owner)} · due {date_text(a.due)} · "
                        f"{a.status}")
    else:
        st.caption("No commentary yet.")
    if not may_write(user, view.allowed, figure):
        if user.role.name not in ("executive", "manager"):
            st.caption("Your role reads the review; executives and managers write it.")
        return
    base_key, text_key = _PREFIX + "base:" + key, _PREFIX + "text:" + key
    # The form once asked for: a page of thirty-odd figures each with its form took Streamlit 0.6-0.9 s a run
    # (and a browser longer to draw). Once asked for it is drawn on every run, so typed text is never lost.
    if base_key not in st.session_state:
        st.button("Edit the commentary" if current is not None else "Write a commentary", key=_PREFIX + "edit:" + key,
                  on_click=_start_editing, args=(key, current))
        return
    conflict = st.session_state.get(_PREFIX + "conflict:" + key)
    _show_said(key)
    if conflict is not None:
        theirs: Commentary = conflict
        st.warning(f"{plain(theirs.author)} saved a newer version (version {theirs.version}, "
                   f"{local_text(theirs.written_at)}) while you were editing, so yours was **not** saved and "
                   "nothing was overwritten. Their text:")
        st.markdown(f"> {plain(theirs.text, TEXT)}")
        st.caption("Your text is still in the box below: keep theirs, or edit yours (combining the two if you "
                   "wish) and save it in their place. Every version stays in the history.")
        st.button("Keep their version", key=_PREFIX + "keep:" + key, on_click=_keep_theirs, args=(key, theirs))
    elif current is not None and st.session_state[base_key] != current.version:
        st.caption(f"{plain(current.author)} saved a newer version after you opened this one: saving will show you "
                   "both and ask.")
    a = current.action if current is not None else None
    with st.form(_PREFIX + "form:" + key, border=False):
        st.text_area("Commentary", key=text_key, max_chars=TEXT, height=110)
        left, middle, right = st.columns([3, 2, 1])
        left.text_input("Action (optional)", value=a.what if a else "", key=_PREFIX + "what:" + key,
                        help="What will be done about the figure. Leave empty for no action.")
        owner = a.owner if a and a.owner in owners else (user.email if user.email in owners else owners[0])
        middle.selectbox("Owner", owners, index=owners.index(owner), key=_PREFIX + "owner:" + key)
        right.date_input("Due", value=a.due if a else view.as_of + timedelta(days=7), key=_PREFIX + "due:" + key,
                         format="DD/MM/YYYY")
        label = "Save mine in their place" if conflict is not None else "Save"
        st.form_submit_button(label, type="primary", on_click=_save, args=(store, user, view, figure, current))


def _start_editing(key: str, current: Commentary | None) -> None:
    """The version this user starts from and its text, kept until they save or choose."""
    st.session_state[_PREFIX + "base:" + key] = current.version if current is not None else None
    st.session_state[_PREFIX + "text:" + key] = current.text if current is not None else ""


def _keep_theirs(key: str, theirs: Commentary) -> None:
    _start_editing(key, theirs)
    st.session_state.pop(_PREFIX + "conflict:" + key, None)


def _save(store: ReviewStore, user: User, view: View, figure: Figure, shown: Commentary | None) -> None:
    """The form's save, as a callback (before the page reads the store again): based on the version the user
    started from, or, after a conflict, on the other person's version they have now been shown."""
    key = _key(figure)
    conflict: Commentary | None = st.session_state.get(_PREFIX + "conflict:" + key)
    based_on = conflict.version if conflict is not None else st.session_state.get(_PREFIX + "base:" + key)
    what = (st.session_state.get(_PREFIX + "what:" + key) or "").strip()
    action = None
    if what:
        previous = shown.action if shown is not None else None
        action = Action(what, st.session_state[_PREFIX + "owner:" + key], st.session_state[_PREFIX + "due:" + key],
                        previous.status if previous is not None else "open")
    try:
        saved = store.comment(user, view.allowed, figure, st.session_state.get(_PREFIX + "text:" + key) or "",
                              based_on=based_on, action=action)
    except EditConflict as exc:
        st.session_state[_PREFIX + "conflict:" + key] = exc.current
        return
    except ReviewError as exc:
        _say(key, "error", str(exc).capitalize())
        return
    st.session_state[_PREFIX + "base:" + key] = saved.version
    st.session_state.pop(_PREFIX + "conflict:" + key, None)
    _say(key, "success", f"Saved (version {saved.version}).")


# ---------------------------------------------------------------------------------------------- actions


def _about(t: TrackedAction, names: dict[str, str]) -> str:
    return f"{KPIS[t.figure.kpi_id].title} ({scope_text(t.figure.scope, names)})"


def _actions_frame(tracked: list[TrackedAction], names: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({
        "Action": [("↻ " if t.carried_forward else "") + t.action.what for t in tracked],
        "On the figure": [_about(t, names) for t in tracked],
        "Owner": [t.action.owner for t in tracked],
        "Due": [t.action.due for t in tracked],
        "Status": [t.action.status.capitalize() for t in tracked],
        "Raised": [t.figure.as_of for t in tracked],
    }, schema={"Action": pl.Utf8, "On the figure": pl.Utf8, "Owner": pl.Utf8, "Due": pl.Date, "Status": pl.Utf8,
               "Raised": pl.Date})


def tracker_section(view: View, store: ReviewStore, user: User) -> None:
    st.subheader("Action tracker")
    tracker = store.action_tracker(user, view.allowed, view.as_of)
    names = data.team_names(view.key)
    carried = sum(t.carried_forward for t in tracker.open)
    cols = st.columns(4)
    cols[0].metric("Open", f"{len(tracker.open):,}")
    cols[1].metric("Due this week", f"{len(tracker.due_this_week):,}")
    cols[2].metric("Overdue", f"{len(tracker.overdue):,}")
    cols[3].metric("Carried forward", f"{carried:,}", help="Raised in an earlier week and still open")
    dated = {"Due": st.column_config.DateColumn(format="D MMM YYYY"),
             "Raised": st.column_config.DateColumn("Raised for the week ending", format="D MMM YYYY")}
    tabs = st.tabs(["Overdue", "Due this week", "Open", "By owner"])
    for tab, tracked, empty in ((tabs[0], tracker.overdue, "No action is overdue."),
                                (tabs[1], tracker.due_this_week, "No action is due this week."),
                                (tabs[2], tracker.open, "No action is open.")):
        with tab:
            if tracked:
                grid(_actions_frame(tracked, names), hide_index=True, width="stretch", column_config=dated)
            else:
                st.caption(empty)
    with tabs[3]:
        if not tracker.by_owner:
            st.caption("No action is open.")
        for owner, tracked in tracker.by_owner.items():
            st.markdown(f"**{plain(owner)}** · {plural(len(tracked), 'open action')}")
            grid(_actions_frame(tracked, names).drop("Owner"), hide_index=True, width="stretch", column_config=dated)
    st.caption("↻ carried forward: raised for an earlier week and still open.")
    changeable = [t for t in dict.fromkeys(tracker.open + tracker.due_this_week)
                  if may_write(user, view.allowed, t.figure)]
    if changeable:
        update_form(view, store, user, changeable, names)


def update_form(view: View, store: ReviewStore, user: User, tracked: list[TrackedAction],
                names: dict[str, str]) -> None:
    """Change an action's status or due date: based on the version shown when the form was drawn."""
    _show_said("action")
    with st.form(_PREFIX + "update", border=True):
        st.markdown("**Update an action**")
        options = {t.commentary_id: t for t in tracked}
        left, middle, right = st.columns([3, 1, 1])
        left.selectbox("Action", list(options), key=_PREFIX + "update:which",
                                format_func=lambda i: f"{options[i].action.what} — {options[i].action.owner}, due "
                                                      f"{date_text(options[i].action.due)}")
        middle.selectbox("Status", ACTION_STATUSES, key=_PREFIX + "update:status",
                         format_func=str.capitalize)
        right.date_input("Due", value=None, key=_PREFIX + "update:due", format="DD/MM/YYYY",
                         help="Leave empty to keep the due date")
        versions = {i: t.version for i, t in options.items()}
        st.form_submit_button("Update", on_click=_update, args=(store, user, view, versions))


def _update(store: ReviewStore, user: User, view: View, versions: dict[int, int]) -> None:
    chosen = st.session_state.get(_PREFIX + "update:which")
    if chosen not in versions:
        return
    try:
        saved = store.update_action(user, view.allowed, chosen, versions[chosen],
                                    status=st.session_state.get(_PREFIX + "update:status"),
                                    due=st.session_state.get(_PREFIX + "update:due"))
    except EditConflict as exc:
        c = exc.current
        a = c.action
        _say("action", "error", f"{c.author} changed this action at {local_text(c.written_at)} (now "
                                f"{a.status if a else 'no action'}, due {date_text(a.due) if a else '—'}), after "
                                "this page showed it: nothing was overwritten. Check it and update it again.")
        return
    except ReviewError as exc:
        _say("action", "error", str(exc).capitalize())
        return
    _say("action", "success", f"Updated: {saved.action.what} is {saved.action.status}, due "
                              f"{date_text(saved.action.due)}.")


# ---------------------------------------------------------------------------------------------- sign-off


def signoff_section(view: View, store: ReviewStore, user: User, signoff: SignOff | None) -> None:
    st.subheader("Sign-off")
    _show_said("signoff")
    if signoff is not None:
        st.success(f"The week ending {date_text(view.as_of)} was signed off for the whole landlord by "
                   f"{plain(signoff.signed_by)} on {local_text(signoff.signed_at)}. Its pack is archived exactly as "
                   f"signed (SHA-256 {signoff.pdf_sha256[:16]}…).")
        try:
            pdf = store.signed_off_pdf(user, view.allowed, view.as_of)
        except ReviewError as exc:
            st.error(plain(str(exc).capitalize(), MESSAGE))
            return
        st.download_button("Download the signed-off pack", pdf, file_name=signoff.pdf_filename,
                           mime="application/pdf", icon=":material/picture_as_pdf:", key=_PREFIX + "signed-pdf")
        if user.role.name == "executive":
            st.button("E-mail the pack to the distribution list", icon=":material/mail:", key=_PREFIX + "email",
                      on_click=_email, args=(store, user, view))
        return
    red = red_kpis(data.store(view.key), view.as_of)
    missing = missing_commentary(red, store.commentaries(user, view.allowed, view.as_of))
    if missing:
        st.error("The week cannot be signed off until each figure off target has a whole-landlord commentary. "
                 f"Still without one ({len(missing)}): " + "; ".join(plain(KPIS[k].title) for k in missing) + ".")
    elif red:
        st.caption(f"Every figure off target ({len(red):,}) has a whole-landlord commentary.")
    if not may_sign_off(user, view.allowed):
        st.caption("Only an executive signs off the week.")
        return
    st.button("Sign off the week", type="primary", icon=":material/task_alt:", key=_PREFIX + "signoff",
              disabled=bool(missing), on_click=_ask, args=("signoff",),
              help="Builds the week's whole-landlord pack (about 20 seconds) and archives it with the figures.")
    if st.session_state.pop(_PREFIX + "asked:signoff", False):
        bar = st.progress(0.0, text="Building the week's pack…")
        try:
            signed = sign_off_week(store, data.load_extract(view.key), user, view.allowed, view.as_of,
                                   figures=data.store(view.key),
                                   progress=lambda stage, f: bar.progress(min(max(f, 0.0), 1.0), text=stage))
        except ReviewError as exc:
            bar.empty()
            _say("signoff", "error", str(exc).capitalize())
        else:
            bar.empty()
            _say("signoff", "success", f"Signed off by {signed.signed_by}; the pack is archived.")
        st.rerun()


def _ask(what: str) -> None:
    st.session_state[_PREFIX + "asked:" + what] = True


def _email(store: ReviewStore, user: User, view: View) -> None:
    try:
        sent = email_signed_pack(store, user, view.allowed, view.as_of, data.load_extract(view.key).landlord,
                                 actor=user.email)
    except (ReviewError, mail.MailError) as exc:
        _say("signoff", "error", str(exc).replace("\n", " ").capitalize())
        return
    _say("signoff", "success", f"The signed-off pack was sent to {', '.join(sent)}.")


# ---------------------------------------------------------------------------------------------- restatements


def restatements_section(view: View, store: ReviewStore, user: User) -> None:
    st.subheader("Restatements of signed-off weeks")
    signoffs = tuple((s.as_of, s.pdf_sha256) for s in store.signoffs())
    if not signoffs:
        st.caption("No week has been signed off yet.")
        return
    with st.spinner("Checking the signed-off weeks against this extract…"):
        weeks = restated(view.key, signoffs, store, user)
    changed = [w for w in weeks if w.figures or w.problem]
    st.caption(f"{plural(len(weeks), 'signed-off week')} checked against this extract: "
               f"{len(weeks) - len(changed):,} with every figure as signed off. A record is back-dated when it is "
               "dated inside the signed-off week but was recorded since; new when it counts now and is dated earlier; "
               "changed when it counted then and is different now; removed when it counted then and not now.")
    for w in changed:
        with st.expander(f"Week ending {date_text(w.signoff.as_of)} · signed off by {plain(w.signoff.signed_by)} · "
                         + (f"{plural(len(w.figures), 'figure')} restated" if w.figures else "cannot be checked"),
                         expanded=w.signoff.as_of == view.as_of):
            if w.problem:
                st.warning(plain(f"This week cannot be checked against this extract: {w.problem}.", MESSAGE))
                continue
            rows = []
            for r in w.figures:
                k = KPIS[r.kpi_id]
                records = "not kept at sign-off" if r.records is None else "; ".join(
                    f"{c.id} {c.change}" + (f" ({date_text(c.dated)})" if c.dated else "") for c in r.records) \
                    or "no record changed (what it is counted over did)"
                rows.append({"Measure": k.title, "Signed off": value_text(k, r.signed.value),
                             "Now": value_text(k, r.value), "Records changed since": records})
            grid(pl.DataFrame(rows), hide_index=True, width="stretch")
