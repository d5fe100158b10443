-- One row per damp and mould case at the home $property_id other than $case_id: the home's other
-- reports ("previously reported"), earliest first, with whether each came before this case and
-- its team, and in_scope: whether the scope ($scope_region, $scope_teams: the user's own) may see it.
-- A case is at the home by its property_id or, where that is null, its household's home.
-- order by: reported_at, id
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
        c.team_id,
        in_scope(c.region, c.team_id, $scope_region, cast($scope_teams as varchar[])) as in_scope
    from stg_damp_mould_cases as c
    where c.property_id = $property_id
      and c.case_id is distinct from $case_id
)

select * from final
