-- One row per group of a household-level KPI query's kept rows ($rows_table) for the as-of dates, in
-- the scope's regions (in_scope_regions: R, or under a team scope alone the teams' regions).
with final as (
    select r.*
    from query_table($rows_table) as r
    where list_contains(cast($as_of_dates as date[]), r.as_of)
      and in_scope_regions(r.region, $scope_region, cast($scope_teams as varchar[]))
)

select * from final
