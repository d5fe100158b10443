-- One row per area (region and area) of the teams' patch at D ($as_of): the areas of the homes where
-- the teams $scope_teams own a repair job, damp and mould case or complaint reported in the two years
-- up to D. Homes at risk under a team scope lists the homes of these areas.
-- order by: region, area
with team_homes as (
    select region, area from stg_repairs
    where list_contains(cast($scope_teams as varchar[]), team_id)
      and reported_at >= cast($as_of as date) - 729 and reported_at < cast($as_of as date) + 1
    union all
    select region, area from stg_damp_mould_cases
    where list_contains(cast($scope_teams as varchar[]), team_id)
      and reported_at >= cast($as_of as date) - 729 and reported_at < cast($as_of as date) + 1
    union all
    select region, area from stg_complaints
    where list_contains(cast($scope_teams as varchar[]), team_id)
      and received_at >= cast($as_of as date) - 729 and received_at < cast($as_of as date) + 1
),

final as (
    select distinct region, area from team_homes where area is not null
)

select * from final
