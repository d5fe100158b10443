-- What is open at the end of the week (E), written once for the open-case KPIs and the "Due soon" list.
-- Unscoped: each query applies its own scope rule to what these return.

-- One row per as-of date and damp and mould case open at E: reported before E and not closed before E
-- (timestamps, never the status column).
create or replace macro dm_cases_open_at(as_of_dates) as table
    select w.as_of, w.week_end, c.*
    from reporting_weeks(as_of_dates) as w
    inner join stg_damp_mould_cases as c
        on c.reported_at < w.week_end
        and (c.closed_at is null or c.closed_at >= w.week_end);

-- One row per as-of date and complaint open at E, its stage times as known at E (nothing at or after E
-- has happened yet): received before E and either stage 1 not responded before E, or stage 2 requested
-- before E and not responded before E. A complaint with outcome withdrawn is never open (the outcome has
-- no timestamp, so it is taken as it stands in the extract, for past weeks too).
-- current_stage: 2 while an escalation requested before E awaits its response, else 1 (stage 1 awaiting
-- its response, including the odd case of a stage 2 answered before stage 1). ack_due_on and
-- response_due_on are the current stage's deadlines that apply at E (the response deadline from the
-- acknowledgement when it was recorded before E, else from the acknowledgement deadline; extensions
-- applied: 5_clocks.sql).
create or replace macro complaints_open_at(as_of_dates) as table
    with known_at_week_end as (
        select
            w.as_of,
            w.week_end,
            c.* replace (
                case when c.stage1_acknowledged_at < w.week_end then c.stage1_acknowledged_at end
                    as stage1_acknowledged_at,
                case when c.stage1_responded_at < w.week_end then c.stage1_responded_at end
                    as stage1_responded_at,
                case when c.stage2_requested_at < w.week_end then c.stage2_requested_at end
                    as stage2_requested_at,
                case when c.stage2_acknowledged_at < w.week_end then c.stage2_acknowledged_at end
                    as stage2_acknowledged_at,
                case when c.stage2_responded_at < w.week_end then c.stage2_responded_at end
                    as stage2_responded_at
            )
        from reporting_weeks(as_of_dates) as w
        inner join stg_complaints as c on c.received_at < w.week_end
        where c.outcome is distinct from 'withdrawn'
    ),

    open_at_week_end as (
        select
            *,
            case when stage2_requested_at is not null and stage2_responded_at is null then 2 else 1 end
                as current_stage
        from known_at_week_end
        where stage1_responded_at is null
           or (stage2_requested_at is not null and stage2_responded_at is null)
    )

    select
        o.*,
        case o.current_stage when 1 then k.stage1_ack_due_on else k.stage2_ack_due_on end as ack_due_on,
        case o.current_stage when 1 then o.stage1_acknowledged_at else o.stage2_acknowledged_at end
            as acknowledged_at,
        case o.current_stage
            when 1 then response_due_on(
                o.stage1_acknowledged_at, o.week_end,
                k.stage1_response_due_on_from_ack, k.stage1_response_due_on_from_ack_due)
            else response_due_on(
                o.stage2_acknowledged_at, o.week_end,
                k.stage2_response_due_on_from_ack, k.stage2_response_due_on_from_ack_due)
        end as response_due_on
    from open_at_week_end as o
    left join complaint_clocks as k on k.complaint_id = o.complaint_id;
