-- One row per prepared scope ($scopes_table) and group of a household-level KPI query's kept rows
-- ($rows_table) in the scope's regions (scope_regions, worked out once per scope).
with scopes as (
    select scope_key, scope_regions(scope_region, scope_teams) as regions
    from query_table($scopes_table)
),

final as (
    select s.scope_key, r.*
    from scopes as s
    inner join query_table($rows_table) as r
        on in_regions(r.region, s.regions)
)

select * from final
