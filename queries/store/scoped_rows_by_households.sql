-- One row per prepared scope ($scopes_table) and group of a household-level KPI query's kept rows
-- ($rows_table) in the scope's regions (scope_regions, worked out once per scope), keeping only the
-- columns the KPIs need ($columns) and, when $grouped, adding up the rows that then look the same.
with scopes as (
    select scope_key, scope_regions(scope_region, scope_teams) as regions
    from query_table($scopes_table)
),

scoped as (
    select s.scope_key, r.*
    from scopes as s
    inner join query_table($rows_table) as r
        on in_regions(r.region, s.regions)
),

kept as (
    select scope_key, columns(lambda c: list_contains($columns, c)), n
    from scoped
),

final as (
    select * exclude (n), cast(sum(n) as bigint) as n from kept where $grouped group by all
    union all by name
    select * from kept where not $grouped
)

select * from final
