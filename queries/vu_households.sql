-- One row per household whose tenancy covers D, per as-of date, in the scope's regions
-- (R, or under a team scope alone the teams' regions). is_vulnerable_household: a
-- vulnerability recorded on or before D; has_recent_census: details confirmed within
-- the 730 days up to D (D-729 .. D).
-- order by: as_of, has_recent_census, census_completed_on nulls first, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

households_with_region as (
    select
        hh.*,
        p.region,
        p.area,
        v.vulnerable_since
    from households as hh
    left join properties as p on p.property_id = hh.property_id
    left join stg_household_vulnerable_since as v on v.household_id = hh.household_id
),

final as (
    select
        w.as_of,
        h.household_id as id,
        h.property_id,
        h.region,
        h.area,
        h.tenancy_start,
        h.census_completed_on,
        coalesce(h.vulnerable_since <= w.as_of, false) as is_vulnerable_household,
        coalesce(h.census_completed_on between w.as_of - 729 and w.as_of, false) as has_recent_census
    from weeks as w
    inner join households_with_region as h
        on tenancy_covers(h.tenancy_start, h.tenancy_end, w.as_of)
    where in_scope_regions(h.region, $scope_region, cast($scope_teams as varchar[]))
)

select * from final
