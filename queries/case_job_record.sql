-- One row: the repair job $job_id as recorded, with its contractor, its follow-on jobs and chases.
with follow_ons as (
    select count(*) as follow_on_jobs from repairs where parent_job_id = $job_id
),

chases as (
    select count(*) as chases from contacts where job_id = $job_id and reason = 'repair_chase'
),

final as (
    select
        j.job_id,
        j.status,
        j.priority,
        j.category,
        k.contractor_name,
        k.is_in_house,
        j.reported_at,
        j.target_at,
        j.completed_at,
        j.cancelled_at,
        j.completion_verified,
        j.source_system,
        j.cost_gbp,
        j.dm_case_id,
        j.parent_job_id,
        f.follow_on_jobs,
        ch.chases,
        case
            when j.completed_at is not null and j.completed_at <= j.target_at then 'met'
            when j.completed_at is not null then 'missed (done late)'
            when j.cancelled_at is not null then 'cancelled'
            when j.target_at < cast($known_at as timestamp) then 'missed (not done)'
            else 'running'
        end as target_status
    from repairs as j
    left join contractors as k on k.contractor_id = j.contractor_id
    cross join follow_ons as f
    cross join chases as ch
    where j.job_id = $job_id
)

select * from final
