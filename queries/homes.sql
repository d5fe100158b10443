-- One row per as-of date: the homes that make the "per 1,000 homes" denominator
-- (in stock on D, leasehold excluded) in the regions of the scope.
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

final as (
    select
        as_of,
        homes_in_stock(as_of, scope_regions($scope_region, cast($scope_teams as varchar[]))) as homes
    from weeks
)

select * from final
