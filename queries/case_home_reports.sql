-- One row per damp and mould case at the home $property_id other than $case_id: the home's other
-- reports ("previously reported"), earliest first, with whether each came before this case and
-- its team (a user scoped to teams sees only their teams' cases). A case is at the home by its
-- property_id or, where that is null, its household's home.
with final as (
    select
        c.case_id as id,
        c.reported_at,
        c.hazard_level,
        c.root_cause,
        c.resolved_at,
        c.closed_at,
        c.reopened_from_case_id,
        c.reported_at < cast($started_at as timestamp) as before_this_case,
        c.team_id
    from damp_mould_cases as c
    where c.home_id = $property_id
      and c.case_id is distinct from $case_id
)

select * from final
order by reported_at, id
