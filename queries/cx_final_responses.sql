-- One row per complaint whose final response was given in the week (D-6 .. D), per as-of date, in scope.
-- The final response is the stage 2 response when stage 2 was requested before E, else the stage 1
-- response (so a stage 1 response in the week followed by an escalation before E is not final).
-- has_decided_outcome: outcome not null and not withdrawn (cx.upheld_pct's denominator);
-- is_upheld: upheld or partly_upheld. outcome and compensation_offered_gbp carry no time of their own,
-- so they are taken as they stand in the extract (cx.compensation_offered_gbp sums every row, null as 0).
-- order by: as_of, final_response_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

complaints_in_scope as (
    select *
    from stg_complaints as c
    where in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[]))
),

final_responses as (
    select
        w.as_of,
        w.week_start,
        w.week_end,
        c.*,
        case when c.stage2_requested_at < w.week_end then 2 else 1 end as final_stage,
        case when c.stage2_requested_at < w.week_end then c.stage2_responded_at else c.stage1_responded_at end
            as final_response_at
    from weeks as w
    inner join complaints_in_scope as c
        on (c.stage1_responded_at >= w.week_start and c.stage1_responded_at < w.week_end)
        or (c.stage2_responded_at >= w.week_start and c.stage2_responded_at < w.week_end)
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
        final_stage,
        final_response_at,
        outcome,
        compensation_offered_gbp,
        coalesce(outcome <> 'withdrawn', false) as has_decided_outcome,
        coalesce(outcome in ('upheld', 'partly_upheld'), false) as is_upheld
    from final_responses
    where final_response_at >= week_start
      and final_response_at < week_end
)

select * from final
