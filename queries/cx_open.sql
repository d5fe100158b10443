-- One row per complaint open at the end of the week (E), per as-of date, in scope.
-- Open at E: received before E and either stage 1 not responded before E, or stage 2 requested before E
-- and not responded before E (timestamps, never a status). A complaint with outcome withdrawn is never
-- open (the outcome has no timestamp, so it is taken as it stands in the extract, for past weeks too).
-- current_stage: 2 while an escalation requested before E awaits its response, else 1 (stage 1 awaiting
-- its response, including the odd case of a stage 2 answered before stage 1).
-- is_overdue (cx.open_overdue): the current stage's response deadline that applies at E is before E,
-- i.e. the deadline date is on or before D (an action any time on the deadline date still meets it).
-- is_vulnerable_household (vu.open_complaints_vulnerable): by the household, or where the complaint has
-- none, by the households whose tenancy at its property covers the received date.
-- order by: as_of, response_due_on nulls last, received_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

-- The stage times as known at E: nothing at or after E has happened yet.
known_at_week_end as (
    select
        w.as_of,
        w.week_end,
        c.* replace (
            case when c.stage1_acknowledged_at < w.week_end then c.stage1_acknowledged_at end
                as stage1_acknowledged_at,
            case when c.stage1_responded_at < w.week_end then c.stage1_responded_at end as stage1_responded_at,
            case when c.stage2_requested_at < w.week_end then c.stage2_requested_at end as stage2_requested_at,
            case when c.stage2_acknowledged_at < w.week_end then c.stage2_acknowledged_at end
                as stage2_acknowledged_at,
            case when c.stage2_responded_at < w.week_end then c.stage2_responded_at end as stage2_responded_at
        )
    from weeks as w
    inner join complaints_in_scope as c on c.received_at < w.week_end
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
),

deadlines as (
    select
        o.*,
        case o.current_stage
            when 1 then k.stage1_ack_due_on
            else k.stage2_ack_due_on
        end as ack_due_on,
        case o.current_stage
            when 1 then o.stage1_acknowledged_at
            else o.stage2_acknowledged_at
        end as acknowledged_at,
        case o.current_stage
            when 1 then response_due_on(
                o.stage1_acknowledged_at, o.week_end,
                k.stage1_response_due_on_from_ack, k.stage1_response_due_on_from_ack_due)
            else response_due_on(
                o.stage2_acknowledged_at, o.week_end,
                k.stage2_response_due_on_from_ack, k.stage2_response_due_on_from_ack_due)
        end as response_due_on
    from open_at_week_end as o
    left join complaint_clocks as k on k.complaint_id = o.complaint_id
),

final as (
    select
        as_of,
        complaint_id as id,
        complaint_id,
        property_id,
        region,
        area,
        team_id,
        category,
        received_at,
        current_stage,
        stage2_requested_at,
        ack_due_on,
        acknowledged_at,
        response_due_on,
        date_diff('microsecond', received_at, week_end) / 86400e6 as days_open,
        greatest(date_diff('day', response_due_on, as_of), 0) as days_overdue,
        coalesce(response_due_on <= as_of, false) as is_overdue,
        belongs_to_vulnerable_household(household_id, property_id, received_at, as_of) as is_vulnerable_household
    from deadlines
)

select * from final
