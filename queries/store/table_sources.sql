-- One row per contract table: where it was read from, its columns' source types and its problems (JSON).
with final as (
    select table_name, "glob", source_types, problems from table_sources
)

select * from final
