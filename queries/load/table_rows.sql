-- One row: how many rows the loaded table $table holds.
with final as (
    select count(*) as rows from query_table($table)
)

select * from final
