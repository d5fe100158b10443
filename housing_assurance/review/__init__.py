"""The committee's weekly review: commentary and actions on the figures, and the week's sign-off.

Storage and rules only (no Streamlit, no KPI computation), in three modules the app, the pack and
the command line import directly: `store` (open_store, ReviewStore and its exceptions), `database`
(where the database lives, migrations) and `mail` (the pack and the managers' digest by e-mail).
Nothing is imported here, so a process that only migrates or only sends mail stays light.
"""
