-- One row per group of a KPI query's kept rows ($rows_table, see housing_assurance/figures.py) for the
-- as-of dates that the scope counts by the rows rule (in_scope: the row's home region and its team).
with final as (
    select r.*
    from query_table($rows_table) as r
    where list_contains(cast($as_of_dates as date[]), r.as_of)
      and in_scope(r.region, r.team_id, $scope_region, cast($scope_teams as varchar[]))
)

select * from final
