-- One row per prepared week and one per prepared scope: what the figures table holds.
with final as (
    select 'week' as kind, cast(as_of as varchar) as value from figure_weeks
    union all
    select 'scope', scope_key from figure_scopes
)

select * from final
