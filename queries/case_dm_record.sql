-- One row: the damp and mould case $case_id as recorded, with its team's name and how many repair
-- jobs are linked to it.
with linked_jobs as (
    select count(*) as jobs_linked from repairs where dm_case_id = $case_id
),

final as (
    select
        c.case_id,
        c.status,
        c.source,
        c.hazard_level,
        c.severity_category,
        c.root_cause,
        c.further_work_required,
        c.reported_at,
        c.investigation_completed_at,
        c.resolved_at,
        c.closed_at,
        c.reopened_from_case_id,
        l.jobs_linked
    from damp_mould_cases as c
    cross join linked_jobs as l
    where c.case_id = $case_id
)

select * from final
