-- One row per prepared scope ($scopes_table: scope_key, scope_region, scope_teams) and group of a KPI
-- query's kept rows ($rows_table) that the scope counts by the rows rule (in_scope), keeping only the
-- columns the KPIs need ($columns) and, when $grouped, adding up the rows that then look the same.
with scoped as (
    select s.scope_key, r.*
    from query_table($scopes_table) as s
    inner join query_table($rows_table) as r
        on in_scope(r.region, r.team_id, s.scope_region, s.scope_teams)
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
