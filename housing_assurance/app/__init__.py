"""The Streamlit app as small rooms: shell (sign-in, sidebar, pack button), state (the view and its URL),
data (cached figures and lists), blocks (tiles, trends, breakdowns, drill-downs), tables, and a module
per page that needs more than blocks (case, about, audit, homes at risk). Pages in pages/ lay these out."""
