-- One row per Awaab's Law clock of the damp and mould case $case_id (from dm_case_clocks, built
-- in _setup.sql), with when the clock started, its deadline, when its action happened and, as
-- known at $known_at (the extract's extracted_at), whether it was met, missed, or is still running.
-- order by: due_by, clock
with clock as (
    select
        k.*,
        c.reported_at,
        c.investigation_completed_at
    from dm_case_clocks as k
    inner join damp_mould_cases as c on c.case_id = k.case_id
    where k.case_id = $case_id
),

final as (
    select
        clock,
        case when clock in ('emergency_made_safe_24h', 'investigated_10wd') then reported_at
             else investigation_completed_at end as started_at,
        due_on,
        due_by,
        action_at,
        date_diff('microsecond',
            case when clock in ('emergency_made_safe_24h', 'investigated_10wd') then reported_at
                 else investigation_completed_at end,
            action_at) / 86400e6 as days_taken,
        case
            when action_at is not null and action_at <= due_by then 'met'
            when action_at is not null then 'missed (done late)'
            when due_by < cast($known_at as timestamp) then 'missed (not done)'
            else 'running'
        end as status
    from clock
)

select * from final
