-- One row per complaint open at the end of the week (E), per as-of date, in scope.
-- Open at E, the current stage and its deadlines: complaints_open_at (setup/6_open_at.sql).
-- is_overdue (cx.open_overdue): the current stage's response deadline that applies at E is before E,
-- i.e. the deadline date is on or before D (an action any time on the deadline date still meets it).
-- is_vulnerable_household (vu.open_complaints_vulnerable): by the household, or where the complaint has
-- none, by the households whose tenancy at its property covers the received date.
-- order by: as_of, response_due_on nulls last, received_at, id
with deadlines as (
    select *
    from complaints_open_at($as_of_dates) as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
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
