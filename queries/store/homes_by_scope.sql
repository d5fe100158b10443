-- One row per prepared scope ($scopes_table) and as-of date: the homes that make its "per 1,000
-- homes" denominator (in stock on D, tenure counting as a home, in the scope's regions). Homes are
-- counted once per region and week, then added up per scope.
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

homes_by_region as (
    select w.as_of, p.region, count(*) as homes
    from weeks as w
    inner join stg_properties as p
        on p.counts_as_home
        and in_stock_on(p.in_stock_from, p.in_stock_to, w.as_of)
    group by all
),

scopes as (
    select scope_key, scope_regions(scope_region, scope_teams) as regions
    from query_table($scopes_table)
),

final as (
    select
        s.scope_key,
        w.as_of,
        cast(coalesce(sum(h.homes), 0) as bigint) as homes
    from scopes as s
    cross join weeks as w
    left join homes_by_region as h
        on h.as_of = w.as_of
        and in_regions(h.region, s.regions)
    group by all
)

select * from final
