-- One row per place of a breakdown and as-of date D: a region, an area or a team, as $by names it
-- ('region', 'area' or 'team_id'), with the homes there that make the "per 1,000 homes" denominator
-- (in stock on D, leasehold excluded; kpis.md "Homes"), within the regions of the scope. A team's
-- homes are its region's, as for a team scope (kpis.md "Scope"). key is null for the homes with no
-- region (or area) recorded.
-- order by: as_of, key
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

homes as (
    select
        w.as_of,
        p.region,
        p.area
    from weeks as w
    inner join stg_properties as p
        on p.counts_as_home and in_stock_on(p.in_stock_from, p.in_stock_to, w.as_of)
    where in_scope_regions(p.region, $scope_region, cast($scope_teams as varchar[]))
),

by_place as (
    select
        as_of,
        case cast($by as varchar) when 'region' then region else area end as key,
        count(*) as homes
    from homes
    where cast($by as varchar) in ('region', 'area')
    group by all
),

by_team as (
    select
        h.as_of,
        t.team_id as key,
        count(*) as homes
    from homes as h
    inner join teams as t on t.region = h.region
    where cast($by as varchar) = 'team_id'
    group by all
),

final as (
    select * from by_place
    union all
    select * from by_team
)

select * from final
