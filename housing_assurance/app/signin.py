"""Sign-in for the app: OpenID Connect, or a clearly labelled demo mode the operator switches on.

Production: Streamlit's `st.login` with an `[auth]` section in `.streamlit/secrets.toml` (Microsoft
Entra ID or any OpenID Connect provider; see docs/security.md). The signed-in e-mail must be listed
in the operator's access file; anyone else sees a polite message and no data.
Demo mode: only when the operator sets HOUSING_ASSURANCE_DEMO_MODE=1 (`make run` does, for the
built-in demo alone). It is never inferred from the data: an extract, or its folder, can carry any
name, so a production extract that kept the demo's name would otherwise be open to everyone.
"""

from __future__ import annotations

import os
from typing import NoReturn

import streamlit as st

from housing_assurance.access import AccessError, User, load_users
from housing_assurance.app.markup import MESSAGE, plain

DEMO_MODE_ENV = "HOUSING_ASSURANCE_DEMO_MODE"
_DEMO_USER = "_demo_user"


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return False


def demo_mode() -> bool:
    """On only when the operator says so, whatever the extract is called."""
    return os.environ.get(DEMO_MODE_ENV) == "1"


def _signed_in_email() -> str | None:
    """The e-mail of a signed-in visitor ("" when the provider sent none), None before sign-in."""
    try:
        if getattr(st.user, "is_logged_in", False):
            return str(st.user.get("email") or "")
    except Exception:  # st.user raises when [auth] is not configured
        return None
    return None


def _users() -> dict[str, User]:
    try:
        return load_users()
    except AccessError as exc:
        st.error(f"Access is not set up: {plain(exc, MESSAGE)}")
        st.stop()


def _refuse(words: str) -> NoReturn:
    st.title("Housing assurance")
    st.info(words)
    st.button("Sign out", on_click=st.logout)
    st.stop()


def current_user() -> User:
    """The signed-in (or, in demo mode, chosen) user; stops the script with one message otherwise."""
    if demo_mode():
        return _demo_user(_users())
    if not auth_configured():
        st.error("Sign-in is not configured, so no data is shown. Add an [auth] section to "
                 ".streamlit/secrets.toml (see docs/security.md). To try the built-in demo, use `make run`.")
        st.stop()
    email = _signed_in_email()
    if email is None:
        st.title("Housing assurance")
        st.write("Please sign in with your work account to see your organisation's figures.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    if not email:
        _refuse("Your sign-in did not include an e-mail address, so access cannot be checked. "
                "Please ask your administrator.")
    # The access file is read only once someone has signed in: its problems name staff addresses.
    user = _users().get(email.strip().lower())
    if user is None:
        _refuse(f"You are signed in as {email}, but this address has not been given access. "
                "Please ask your administrator to add you.")
    with st.sidebar:
        st.caption(f"Signed in as {user.label}")
        st.button("Sign out", on_click=st.logout)
    return user


def _demo_user(users: dict[str, User]) -> User:
    """Demo mode: the executive by default (so pasted links open), any demo user on request."""
    emails = sorted(users, key=lambda e: (users[e].role.name != "executive", users[e].role.name, e))
    if not emails:
        st.error("Demo mode is on, but the access file lists no users.")
        st.stop()
    chosen = st.session_state.get(_DEMO_USER)
    if chosen not in users:
        chosen = emails[0]
    with st.sidebar:
        st.warning("Demo mode: synthetic data, no sign-in. Choose whose view to see.", icon=":material/science:")
        chosen = st.selectbox("Signed in as (demo)", emails, index=emails.index(chosen),
                              format_func=lambda e: users[e].label, key=_DEMO_USER)
    return users[chosen]
