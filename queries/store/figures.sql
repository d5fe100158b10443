-- One row per prepared scope of $scope_keys, KPI and as-of date: the figure as kpis.compute gives it
-- (value, numerator, denominator), read from the store's figures table.
-- order by: scope_key, as_of, kpi_id
with final as (
    select scope_key, as_of, kpi_id, value, numerator, denominator
    from figures
    where list_contains(cast($scope_keys as varchar[]), scope_key)
      and list_contains(cast($as_of_dates as date[]), as_of)
      and list_contains(cast($kpi_ids as varchar[]), kpi_id)
)

select * from final
