-- One row per prepared scope ($scopes_table: scope_key, scope_region, scope_teams) and group of a KPI
-- query's kept rows ($rows_table) that the scope counts by the rows rule (in_scope).
with final as (
    select s.scope_key, r.*
    from query_table($scopes_table) as s
    inner join query_table($rows_table) as r
        on in_scope(r.region, r.team_id, s.scope_region, s.scope_teams)
)

select * from final
