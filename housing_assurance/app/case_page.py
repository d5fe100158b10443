"""The Case page: one damp and mould case, repair job or complaint, its facts, clocks, timeline and the
home's other reports, told as the user's scope allows (timeline.story)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import streamlit as st

from housing_assurance import charts, routes
from housing_assurance.app import data
from housing_assurance.app.markup import plain
from housing_assurance.app.shell import audit_once, scope_words
from housing_assurance.app.state import WIDGET, View, forget_url, page_param, refuse, write_url
from housing_assurance.app.tables import CASE_URL_PATH, as_extracted, column_config, display_frame, downloads, grid
from housing_assurance.clocks import short_names
from housing_assurance.clocks import title as clock_title
from housing_assurance.kpis import KPIS
from housing_assurance.timeline import KINDS
from housing_assurance.words import NO_DATA, date_text, humanise

STATUS_WORDS = {"met": "✓ Met", "missed (done late)": "✕ Missed (done late)",
                "missed (not done)": "✕ Missed (not done)", "running": "… Running", "cancelled": "· Cancelled"}


def case_search(view: View) -> None:
    st.title("Case")
    st.markdown("Open a damp and mould case, a repair job or a complaint by its id, or follow a link from any "
                "list of cases.")
    with st.form("find_case"):
        text = st.text_input("Case, job or complaint id", placeholder="e.g. DM000253, J00003134 or CMP002979")
        if st.form_submit_button("Open") and text.strip():
            st.query_params.from_dict(view.params(case=text.strip()))
            forget_url()
            st.rerun()
    write_url(view)


BACK_PARAMS = ("from", "kpi", "by", "value", "measure")


def back_link(view: View) -> dict[str, str | None]:
    """"← Back to the list" when the case was opened from one (the URL says which page and list), and
    the parameters that keep it on a reload."""
    came_from, kpi_id = page_param("from"), page_param("kpi")
    if came_from is None:
        return {}
    if came_from not in routes.PAGE or came_from in ("case", "audit"):
        refuse("The page to go back to", came_from, "is not a page of this app.")
        return {}
    if kpi_id is not None and kpi_id not in KPIS:
        refuse("The list to go back to", kpi_id, "is not a KPI id.")
        kpi_id = None
    by = page_param("by") if kpi_id else None
    back = {"from": came_from, "kpi": kpi_id, "by": by, "value": page_param("value") if kpi_id else None,
            "measure": page_param("measure") if by else None}  # the breakdown per 1,000 homes, if it was
    label = "← Back to the list" if kpi_id else f"← Back to {routes.PAGE[came_from].title}"
    st.page_link(routes.PAGE[came_from].file, label=label,
                 query_params=view.params(**{k: v for k, v in back.items() if k != "from"}))
    return back


def case_page(view: View) -> None:
    back = back_link(view)
    case_id, kind = page_param("case"), page_param("kind")
    if kind is not None and kind not in KINDS:
        refuse("The kind of case", kind, "is not one of damp and mould case, repair job or complaint; "
               "looking the id up among all three.")
        kind = None
    if not case_id:
        case_search(view)
        return
    story = data.case_story(view.key, case_id, kind, *view.scope_args, view.allowed.region, view.allowed.teams)
    if story is None:
        st.title("Case")
        st.warning(f"No damp and mould case, repair job or complaint in this extract has the id “{plain(case_id)}”.")
        write_url(view, case=case_id, kind=kind, **back)
        return
    if not story.place["in_user_scope"]:
        st.title("Case")
        st.warning("This case is not in your scope: it belongs to a team you do not manage.")
        audit_once(view, "refused_case", case_id)
        return
    if not story.in_scope:
        st.title(plain(story.title))
        st.warning(f"This case belongs to {plain(story.place.get('team_name') or 'another team')} in "
                   f"{plain(story.place.get('region') or 'no region')}, outside {plain(scope_words(view))}.")
        st.page_link(routes.PAGE["case"].file, label="Open it for the whole landlord",
                     query_params={"as_of": view.as_of.isoformat(), "case": story.id, "kind": story.kind})
        write_url(view, case=case_id, kind=kind, **back)
        return
    audit_once(view, "open_case", story.id)
    _case_header(story)
    _case_facts(story)
    _case_clocks(story)
    _case_timeline(view, story)
    _case_other_reports(view, story)
    write_url(view, case=story.id, kind=story.kind, whole_home="1" if st.session_state.get(
        WIDGET + "whole_home") else None, **back)


def _case_header(story) -> None:
    st.title(plain(story.title))
    rec, place = story.record, story.place
    badges = []
    if story.kind == "dm":
        status = "Closed" if rec["closed_at"] else "Resolved, not closed" if rec["resolved_at"] else "Open"
        badges.append((status, "blue"))
        badges.append((f"Hazard: {humanise(rec['hazard_level']).lower()}"
                       if rec["hazard_level"] else "Hazard not yet assessed", "gray"))
    elif story.kind == "job":
        state = ("Completed" if rec["completed_at"] else "Cancelled" if rec["cancelled_at"] else "Open")
        badges.append((f"{state} · {humanise(rec['priority'])} {humanise(rec['category']).lower()}", "blue"))
    else:
        stage = 2 if rec["stage2_requested_at"] else 1
        done = rec["stage2_responded_at"] if stage == 2 else rec["stage1_responded_at"]
        badges.append((f"Stage {stage} · {'responded' if done else 'open'}", "blue"))
    if place.get("vulnerable_household"):
        badges.append(("⚑ Vulnerable household", "violet"))
    st.markdown(" ".join(f":{colour}-badge[{plain(text)}]" for text, colour in badges))


def _status_note(status: str | None, ended_at: object) -> str:
    """The status column as the extract has it, flagged when its timestamps say otherwise (the
    figures always follow the timestamps)."""
    text = humanise(status)
    if status not in (None, "open") and ended_at is None:
        text += " (but no time recorded for it: counted as open)"
    elif status == "open" and ended_at is not None:
        text += " (but a closing time is recorded: counted by that time)"
    return text


def fact(label: str, value: object) -> str:
    """'**Label:** value' as markdown, the value shown as text whatever it holds."""
    if isinstance(value, datetime | date):
        value = date_text(value)
    return f"**{label}:** {plain(value, limit=300) if value not in (None, '') else NO_DATA}"


def _case_facts(story) -> None:
    rec, place = story.record, story.place
    home = ", ".join(str(x) for x in (place.get("address"), place.get("postcode")) if x)
    left = [fact("Home", f"{home} ({place.get('property_id')})"),
            fact("Region and area", " · ".join(str(x) for x in (place.get("region"), place.get("area")) if x)),
            fact("Team", place.get("team_name") or place.get("team_id")),
            fact("Home type", f"{humanise(place.get('property_type'))}, built "
                  f"{place.get('build_year') or 'year unknown'}, EPC {place.get('epc_rating') or NO_DATA}")]
    if story.kind == "dm":
        right = [fact("Reported", rec["reported_at"]), fact("Reported by", humanise(rec["source"])),
                 fact("Severity (0–4)", rec["severity_category"]), fact("Root cause", humanise(rec["root_cause"])
                                                                           if rec["root_cause"] else None),
                 fact("Further work needed", humanise(rec["further_work_required"])
                       if rec["further_work_required"] is not None else None),
                 fact("Repair jobs linked", rec["jobs_linked"]),
                 fact("Status in the extract", _status_note(rec["status"], rec["closed_at"] or rec["resolved_at"]))]
        if rec["reopened_from_case_id"]:
            right.append(fact("Reopens", rec["reopened_from_case_id"]))
    elif story.kind == "job":
        right = [fact("Reported", rec["reported_at"]), fact("Target", rec["target_at"]),
                 fact("Completed", rec["completed_at"]), fact("Contractor", rec["contractor_name"]),
                 fact("Completion verified", humanise(rec["completion_verified"])
                       if rec["completion_verified"] is not None else "Not recorded"),
                 fact("Recorded in", humanise(rec["source_system"])),
                 fact("Cost", f"£{rec['cost_gbp']:,.2f}" if rec["cost_gbp"] is not None else None),
                 fact("Follow-on jobs", rec["follow_on_jobs"]), fact("Chases", rec["chases"]),
                 fact("Status in the extract", _status_note(rec["status"], rec["completed_at"] or
                                                             rec["cancelled_at"]))]
        if rec["dm_case_id"]:
            right.append(fact("Damp and mould case", rec["dm_case_id"]))
    else:
        right = [fact("Received", rec["received_at"]), fact("About", humanise(rec["category"])),
                 fact("Outcome", humanise(rec["outcome"]) if rec["outcome"] else "Not yet decided"),
                 fact("Compensation offered", f"£{rec['compensation_offered_gbp']:,.2f}"
                       if rec["compensation_offered_gbp"] is not None else None),
                 fact("Ombudsman", humanise(rec["ombudsman_outcome"]) if rec["ombudsman_outcome"]
                       else "Referred" if rec["ombudsman_referred_at"] else "Not referred"),
                 fact("Learning", rec["learning_action"])]
    a, b = st.columns(2)
    a.markdown("  \n".join(left))
    b.markdown("  \n".join(right))


def _case_clocks(story) -> None:
    clocks = story.clocks
    title = {"dm": "Awaab's Law clocks", "job": "Target", "complaint": "Complaint Handling Code deadlines"}
    st.subheader(title[story.kind])
    if clocks.is_empty():
        st.caption("No clock has started yet.")
        return
    if story.kind == "dm":
        shown = clocks.select(
            pl.col("clock").map_elements(clock_title, return_dtype=pl.Utf8).alias("Clock"),
            pl.col("started_at").alias("Started"), pl.col("due_by").alias("Deadline"),
            pl.col("action_at").alias("Done"), pl.col("days_taken").alias("Days taken"),
            pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Met or missed"))
    elif story.kind == "job":
        shown = clocks.select(pl.col("clock").alias("Clock"), pl.col("started_at").alias("Started"),
                              pl.col("due_by").alias("Deadline"), pl.col("action_at").alias("Done"),
                              pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status"))
                              .alias("Met or missed"))
    else:
        shown = clocks.select(
            (pl.lit("Stage ") + pl.col("stage").cast(pl.Utf8) + pl.lit(": ") + pl.col("step").str.to_lowercase())
            .alias("Clock"),
            pl.col("started_at").alias("Started"), pl.col("due_on").alias("Deadline"),
            pl.col("done_at").alias("Done"),
            pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Met or missed"))
    cfg = {"Started": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
           "Deadline": (st.column_config.DateColumn(format="D MMM YYYY") if shown.schema["Deadline"] == pl.Date
                        else st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")),
           "Done": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
           "Days taken": st.column_config.NumberColumn(format="%.1f")}
    grid(shown, hide_index=True, column_config=cfg, key="clocks")
    st.caption("As the extract stands: a deadline is met when the action happened at or before it "
               "(any time on the deadline day for working-day clocks).")


def _case_timeline(view: View, story) -> None:
    st.subheader("Timeline")
    events = story.events
    key = WIDGET + "whole_home"
    if isinstance(st.session_state.get(key), str):  # from the URL (whole_home=1)
        st.session_state[key] = st.session_state[key].lower() in ("1", "true", "yes")
    whole = st.toggle("Everything that happened at this home", key=key,
                      help="Off: this case's own events and what else happened at the home while it was open.")
    if not whole:
        own = events.filter(pl.col("linked"))
        start = own["event_at"].min() if len(own) else story.place["started_at"]
        end = own["event_at"].max() if len(own) else start
        if isinstance(start, datetime) and isinstance(end, datetime):
            events = events.filter(pl.col("linked") | pl.col("event_at").is_between(start - timedelta(days=14),
                                                                                     end + timedelta(days=14)))
    deadlines = _deadline_marks(story)
    st.plotly_chart(charts.timeline_chart(events, deadlines), config={"displayModeBar": False}, key="timeline")
    table = events.select(
        "event_at", "lane", "event", "detail",
        pl.when(pl.col("linked")).then(pl.lit("This case")).otherwise(pl.lit("At the home")).alias("part"),
        pl.coalesce(
            pl.when(pl.col("lane") == "Damp and mould").then(pl.col("case_id")),
            pl.when(pl.col("job_id").is_not_null()).then(pl.col("job_id")),
            pl.col("complaint_id"), pl.col("case_id")).alias("ref"))
    kinds = {"Damp and mould": "dm", "Complaints": "complaint"}
    table = table.with_columns(pl.Series("link", [
        view.url(CASE_URL_PATH, case=r["ref"], kind=kinds.get(r["lane"], "job" if r["lane"] in (
            "Repair jobs", "Appointments") else None)) if r["ref"] else None
        for r in table.iter_rows(named=True)], dtype=pl.Utf8)).drop("ref")
    cfg = {"event_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm"),
           "lane": st.column_config.Column("What"), "event": st.column_config.Column("Event"),
           "detail": st.column_config.Column("Detail"), "part": st.column_config.Column("Part of"),
           "link": st.column_config.LinkColumn("Case, job or complaint", display_text=r"case=([^&]*)")}
    grid(table, hide_index=True, column_config=cfg, key="events")
    if story.withheld_events:
        st.caption(_not_shown(story.withheld_events, "event"))
    downloads(view, events.drop("linked"), f"case_{story.id}", f"{story.title}: timeline", key="timeline",
              week=as_extracted(view),
              notes=(_not_shown(story.withheld_events, "event"),) if story.withheld_events else ())


def _deadline_marks(story) -> pl.DataFrame | None:
    c = story.clocks
    if c.is_empty():
        return None
    if story.kind == "dm":
        return c.select(pl.col("clock").map_elements(lambda code: humanise(short_names(code)),
                                                      return_dtype=pl.Utf8).alias("label"), "due_by", "status")
    if story.kind == "job":
        return c.select(pl.lit("Target").alias("label"), "due_by", "status")
    return c.select((pl.lit("Stage ") + pl.col("stage").cast(pl.Utf8) + pl.lit(" ") + pl.col("step").str.to_lowercase())
                    .alias("label"), pl.col("due_on").cast(pl.Datetime("us")).dt.offset_by("1d").alias("due_by"),
                    "status")


def _not_shown(n: int, what: str) -> str:
    """The line that says how much of a home's story a team-scoped user does not see."""
    if n == 1:
        return f"1 {what} at this home belongs to a team outside your scope and is not shown."
    return f"{n:,} {what}s at this home belong to teams outside your scope and are not shown."


def _case_other_reports(view: View, story) -> None:
    """The home's other damp and mould reports, earlier ones and later ones apart, in words and names."""
    other = story.other_reports
    st.subheader("Other damp and mould reports at this home")
    if story.withheld_reports:
        st.caption(_not_shown(story.withheld_reports, "other report"))
    if other.is_empty():
        st.caption("No other damp and mould report at this home"
                   + (" from your teams." if story.withheld_reports else "."))
        return
    shown = display_frame(view, other.with_columns(pl.Series("id", [
        view.url(CASE_URL_PATH, case=i, kind="dm") for i in other["id"].to_list()])))
    cfg = column_config(shown)
    cfg["id"] = st.column_config.LinkColumn("Case", display_text=r"case=([^&]*)")
    cfg["reopened_from_case_id"] = st.column_config.Column("Reopens case")
    if story.kind != "dm":  # a job or a complaint: the home's damp and mould reports, earliest first
        grid(shown.drop("before_this_case"), hide_index=True, column_config=cfg, key="other_reports")
        return
    for heading, part, key in (("Reported before this case", pl.col("before_this_case"), "earlier_reports"),
                               ("Reported after this case", ~pl.col("before_this_case"), "later_reports")):
        rows = shown.filter(part).drop("before_this_case")
        st.markdown(f"**{heading}** ({len(rows):,})")
        if rows.is_empty():
            st.caption("None.")
        else:
            grid(rows, hide_index=True, column_config=cfg, key=key)
