-- One row per Complaint Handling Code deadline of the complaint $complaint_id (acknowledgement and
-- response, stage 1 and, once requested, stage 2), from complaint_clocks in _setup.sql, as known at
-- $known_at (the extract's extracted_at): the response deadline runs from the acknowledgement when
-- one is recorded, else from the acknowledgement deadline; agreed extensions are already applied.
-- order by: stage, step
with complaint as (
    select
        c.*,
        k.stage1_ack_due_on,
        k.stage1_response_due_on_from_ack,
        k.stage1_response_due_on_from_ack_due,
        k.stage2_ack_due_on,
        k.stage2_response_due_on_from_ack,
        k.stage2_response_due_on_from_ack_due
    from complaints as c
    inner join complaint_clocks as k on k.complaint_id = c.complaint_id
    where c.complaint_id = $complaint_id
),

steps as (
    select 1 as stage, 'Acknowledge' as step, received_at as started_at, stage1_ack_due_on as due_on,
        stage1_acknowledged_at as done_at
    from complaint
    union all
    select 1, 'Respond', received_at,
        response_due_on(stage1_acknowledged_at, cast($known_at as timestamp),
            stage1_response_due_on_from_ack, stage1_response_due_on_from_ack_due),
        stage1_responded_at
    from complaint
    union all
    select 2, 'Acknowledge', stage2_requested_at, stage2_ack_due_on, stage2_acknowledged_at
    from complaint
    where stage2_requested_at is not null
    union all
    select 2, 'Respond', stage2_requested_at,
        response_due_on(stage2_acknowledged_at, cast($known_at as timestamp),
            stage2_response_due_on_from_ack, stage2_response_due_on_from_ack_due),
        stage2_responded_at
    from complaint
    where stage2_requested_at is not null
),

final as (
    select
        stage,
        step,
        started_at,
        due_on,
        done_at,
        case
            when done_at is not null and cast(done_at as date) <= due_on then 'met'
            when done_at is not null then 'missed (done late)'
            when due_on < cast($known_at as date) then 'missed (not done)'
            else 'running'
        end as status
    from steps
)

select * from final
