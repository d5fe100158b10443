"""What the user is looking at, and its URL: the week, the scope and the page's own choices.

Every view has a URL: the reporting week, region and team, plus the page's own state (a KPI whose
cases are listed, a breakdown, a case id) are query parameters, read when a URL is opened or a link
followed, and written back after each run, so the address bar can always be pasted into an e-mail.

Each view a person opens is one entry in the browser's history, so Back returns to the view before.
Streamlit's browser side adds an entry (history.pushState) whenever the address changes: on a page
switch and again when the new page writes its parameters (opening a case from a list added two), and
when a session's first run writes the week into the address it was opened at (a duplicate on every
load). Two rules make it one entry per view:
- the first run of a session corrects the address in place (a script replaces the history entry)
  instead of writing it through Streamlit; the server's own copy of the parameters follows at the
  next run, and until then the parameters the browser echoes back are read as the corrected ones;
- a script kept in the page (HISTORY_SCRIPT) lets only the first change of address after a click or
  a key press add an entry; any later change before the next click replaces the current entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

import streamlit as st

from housing_assurance.scope import WHOLE_LANDLORD, Scope, narrow

GLOBAL_PARAMS = ("as_of", "region", "team")
PAGE_PARAMS = ("trend", "breakdown", "by", "measure", "whole_home")  # kept in widgets' state as well as the URL
WIDGET = "w:"  # session-state prefix of widgets whose value lives in the URL
_LAST_URL = "_url_written"
_OPENED = "_url_opened"  # this session has written its address once (its first run corrects it in place)
_ECHO = "_url_echo"  # the address the first run corrected, as the browser may still send it back

HISTORY_SCRIPT = """<script>
(() => {
  if (window.housingAssuranceHistory) return;
  const state = window.housingAssuranceHistory = {armed: false};
  const push = window.history.pushState.bind(window.history);
  const replace = window.history.replaceState.bind(window.history);
  window.history.pushState = (data, unused, url) => {
    if (!state.armed) return replace(data, unused, url);
    state.armed = false;
    return push(data, unused, url);
  };
  const arm = () => { state.armed = true; };
  window.addEventListener("pointerdown", arm, true);
  window.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") arm(); }, true);
  window.addEventListener("popstate", () => { state.armed = false; }, true);
})();
</script>"""


@dataclass(frozen=True)
class View:
    """What the user is looking at: week, scope (region, team) and the page's own state."""

    key: str  # the extract (data.data_key)
    as_of: date
    region: str | None = None
    team: str | None = None
    allowed: Scope = WHOLE_LANDLORD  # the user's own scope
    weeks: tuple[date, ...] = field(default=(), compare=False)

    @property
    def scope(self) -> Scope:
        return narrow(self.allowed, self.region, self.team)

    @property
    def scope_args(self) -> tuple[str | None, tuple[str, ...] | None]:
        """The scope as plain values, for cache keys."""
        s = self.scope
        return s.region, s.teams

    def params(self, **page: str | None) -> dict[str, str]:
        """Query parameters that reopen this view (page parameters left out when None)."""
        out = {"as_of": self.as_of.isoformat()}
        if self.region:
            out["region"] = self.region
        if self.team:
            out["team"] = self.team
        out |= {k: str(v) for k, v in page.items() if v is not None and v != ""}
        return out

    def url(self, page_path: str, **page: str | None) -> str:
        """A relative URL to a page of this app with this view (for links inside tables)."""
        return f"{page_path}?{urlencode(self.params(**page))}"

    def for_team(self, team: str) -> View:
        """The same week for one team alone (the team comparison's links)."""
        return View(key=self.key, as_of=self.as_of, team=team, allowed=self.allowed)


def _sent() -> dict[str, str]:
    return {k: st.query_params.get(k) for k in st.query_params}


def url_params() -> dict[str, str]:
    """The URL this run stands for: the browser's, or the corrected one while it echoes the address the
    session's first run corrected in place."""
    sent = _sent()
    echo = st.session_state.get(_ECHO)
    if echo is not None:
        if sent == echo:
            return dict(st.session_state[_LAST_URL])
        del st.session_state[_ECHO]
    return sent


def url_changed() -> bool:
    """True on a session's first run, after a link was followed or a URL pasted (not our own write)."""
    return url_params() != st.session_state.get(_LAST_URL)


def adopt_url() -> None:
    """Put the URL's values into the widgets' state when the URL changed from outside.

    Week, region and team persist across pages when a link leaves them out (the page menu clears
    the URL); a page's own parameters reset when absent.
    """
    if not url_changed():
        return
    params = url_params()
    for name in GLOBAL_PARAMS:
        if name in params:
            st.session_state[WIDGET + name] = params[name]
    for name in PAGE_PARAMS:
        if name in params:
            st.session_state[WIDGET + name] = params[name]
        else:
            st.session_state.pop(WIDGET + name, None)


def forget_url() -> None:
    """Make the next run read the URL as if it came from outside (after a search box sets it)."""
    st.session_state.pop(_LAST_URL, None)


def keep_history() -> None:
    """Put the history script in the page (hidden; it runs once per browser tab)."""
    with st.container(key="url-history"):
        st.html(HISTORY_SCRIPT, unsafe_allow_javascript=True)


def _correct_address(params: dict[str, str]) -> None:
    """Replace the browser's current history entry with this view's address (no new entry)."""
    search = json.dumps(f"?{urlencode(params)}" if params else "")  # urlencode leaves no quote or "<"
    with st.container(key="url-correct"):
        st.html(f"""<script>(() => {{
  const search = {search};
  if (window.location.search !== search) {{
    window.history.replaceState(window.history.state, "", window.location.pathname + search + window.location.hash);
  }}
}})();</script>""", unsafe_allow_javascript=True)


def write_url(view: View, **page: str | None) -> None:
    """Write the view into the address bar (no rerun) so it can be pasted into an e-mail."""
    params = view.params(**page)
    if not st.session_state.get(_OPENED):  # the address the tab was opened at: corrected in place
        sent = _sent()
        if sent != params:
            st.session_state[_ECHO] = sent
            _correct_address(params)
        st.session_state[_OPENED] = True
    else:
        # Always written: after a link is followed the browser may still show the old address.
        st.query_params.from_dict(params)
        st.session_state.pop(_ECHO, None)
    st.session_state[_LAST_URL] = params


def page_param(name: str) -> str | None:
    """A page's own parameter as the URL gives it (kpi, by, value, case …)."""
    return url_params().get(name) or None


def open_notices() -> None:
    """Keep a place at the top of the main area for what a URL asked and could not be given."""
    st.session_state["_notices"] = st.container()


def refuse(what: str, value: object, why: str) -> None:
    """Say, at the top of the page, that a part of the URL was not used and why (the value as text)."""
    from housing_assurance.app.markup import plain

    st.session_state["_notices"].warning(f"{what} “{plain(value)}” {why}", icon=":material/link_off:")
