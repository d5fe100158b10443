-- One row per damp and mould case at the home $property_id other than $case_id: the home's other
-- reports ("previously reported"), earliest first, with whether each came before this case.
with final as (
    select
        c.case_id as id,
        c.reported_at,
        c.hazard_level,
        c.root_cause,
        c.resolved_at,
        c.closed_at,
        c.reopened_from_case_id,
        c.reported_at < cast($started_at as timestamp) as before_this_case
    from damp_mould_cases as c
    where c.property_id = $property_id
      and c.case_id is distinct from $case_id
)

select * from final
order by reported_at, id
