"""The committee's weekly review: commentary and actions on the figures, and the week's sign-off.

Storage and rules only (no Streamlit, no KPI computation): the app, the pack and the command line
call `open_store()` and the `ReviewStore` methods. `mail` sends the pack and the managers' digest.
"""

from housing_assurance.review.database import database_url, upgrade_to_head
from housing_assurance.review.store import (
    Action,
    ActionTracker,
    Commentary,
    CommentaryVersion,
    EditConflict,
    Figure,
    ReviewError,
    ReviewInputError,
    ReviewPermissionError,
    ReviewStore,
    SignedFigure,
    SignOff,
    SignOffRefused,
    TrackedAction,
    missing_commentary,
    open_store,
)

__all__ = [
    "Action", "ActionTracker", "Commentary", "CommentaryVersion", "EditConflict", "Figure", "ReviewError",
    "ReviewInputError", "ReviewPermissionError", "ReviewStore", "SignOff", "SignOffRefused", "SignedFigure",
    "TrackedAction", "database_url", "missing_commentary", "open_store", "upgrade_to_head",
]
