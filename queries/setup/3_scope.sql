-- Scope (kpis.md "Scope"), written once; every KPI query takes the scope as bound parameters
-- ($scope_region, $scope_teams) and applies one of these two rules (housing_assurance/scope.py says
-- which rule each query takes, and a test checks it):
--   rows: a row passes when its home is in the region (if any) and its team is one of the teams (if any);
--   households and homes: the homes and households of the scope's regions (R, else the teams' regions).
create or replace macro in_scope(row_region, row_team_id, scope_region, scope_teams) as
    coalesce(
        (scope_region is null or row_region = scope_region)
        and (scope_teams is null or list_contains(scope_teams, row_team_id)),
        false);

create or replace macro scope_regions(scope_region, scope_teams) as
    case
        when scope_region is not null then [scope_region]
        when scope_teams is not null then coalesce(
            (select list(distinct t.region) from teams as t where list_contains(scope_teams, t.team_id)),
            [])
    end;

create or replace macro in_regions(row_region, regions) as
    regions is null or coalesce(list_contains(regions, row_region), false);

create or replace macro in_scope_regions(row_region, scope_region, scope_teams) as
    in_regions(row_region, scope_regions(scope_region, scope_teams));

-- A home in stock on D (kpis.md "Homes"): acquired on or before D, not yet gone on D.
create or replace macro in_stock_on(in_stock_from, in_stock_to, d) as
    (in_stock_from is null or in_stock_from <= d) and (in_stock_to is null or in_stock_to > d);

-- The "per 1,000 homes" denominator: homes in stock on D whose tenure counts, in the regions given
-- (null = every home, including homes with no region).
create or replace macro homes_in_stock(as_of, regions) as (
    select count(*)
    from stg_properties as p
    where p.counts_as_home
      and in_stock_on(p.in_stock_from, p.in_stock_to, as_of)
      and (regions is null or list_contains(regions, p.region))
);
