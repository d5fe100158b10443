"""Sign-in for the app: OpenID Connect in production, a clearly labelled demo mode for the demo.

Production: Streamlit's `st.login` with an `[auth]` section in `.streamlit/secrets.toml` (Microsoft
Entra ID or any OpenID Connect provider; see docs/access.md). The signed-in e-mail must be listed in
the access file; anyone else sees a polite message and no data.
Demo mode (the built-in demo extract, or HOUSING_ASSURANCE_DEMO_MODE=1): the visitor picks one of the
demo's users. Outside demo mode the app never runs without a signed-in user.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from housing_assurance.access import AccessError, User, load_users

DEMO_LANDLORD = "Brookmere Housing (demo)"
_DEMO_USER = "_demo_user"


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return False


def demo_mode(landlord: str) -> bool:
    """Demo mode is for the synthetic demo only, unless the operator switches it on explicitly."""
    flag = os.environ.get("HOUSING_ASSURANCE_DEMO_MODE")
    if flag is not None:
        return flag == "1"
    return landlord == DEMO_LANDLORD and not auth_configured()


def _signed_in_email() -> str | None:
    try:
        if getattr(st.user, "is_logged_in", False):
            return st.user.get("email")
    except Exception:  # st.user raises when [auth] is not configured
        return None
    return None


def current_user(extract_dir: Path, landlord: str) -> User:
    """The signed-in (or, in demo mode, chosen) user; stops the script with a message otherwise."""
    try:
        users = load_users(extract_dir=extract_dir)
    except AccessError as exc:
        st.error(f"Access is not set up: {exc}")
        st.stop()
    if demo_mode(landlord):
        return _demo_user(users)
    if not auth_configured():
        st.error("Sign-in is not configured. Add an [auth] section to .streamlit/secrets.toml "
                 "(see docs/access.md), or set HOUSING_ASSURANCE_DEMO_MODE=1 for demonstrations.")
        st.stop()
    email = _signed_in_email()
    if email is None:
        st.title("Housing assurance")
        st.write("Please sign in with your work account to see your organisation's figures.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    user = users.get(email.strip().lower())
    if user is None:
        st.title("Housing assurance")
        st.info(f"You are signed in as {email}, but this address has not been given access. "
                "Please ask your administrator to add you.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {user.label}")
        st.button("Sign out", on_click=st.logout)
    return user


def _demo_user(users: dict[str, User]) -> User:
    """Demo mode: the executive by default (so pasted links open), any demo user on request."""
    emails = sorted(users, key=lambda e: (users[e].role.name != "executive", users[e].role.name, e))
    if not emails:
        st.error("The demo's access file lists no users.")
        st.stop()
    chosen = st.session_state.get(_DEMO_USER)
    if chosen not in users:
        chosen = emails[0]
    with st.sidebar:
        st.warning("Demo mode: synthetic data, no sign-in. Choose whose view to see.", icon=":material/science:")
        chosen = st.selectbox("Signed in as (demo)", emails, index=emails.index(chosen),
                              format_func=lambda e: users[e].label, key=_DEMO_USER)
    return users[chosen]
