-- One row per KPI and as-of date of a prepared scope ($scope_key): the figure as kpis.compute gives it
-- (value, numerator, denominator), read from the store's figures table.
-- order by: as_of, kpi_id
with final as (
    select as_of, kpi_id, value, numerator, denominator
    from figures
    where scope_key = $scope_key
      and list_contains(cast($as_of_dates as date[]), as_of)
      and list_contains(cast($kpi_ids as varchar[]), kpi_id)
)

select * from final
