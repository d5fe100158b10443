-- One row: how many rows of table $table have no $column (a required column), and up to five of
-- their primary keys ($key).
with checked as (
    select
        columns(lambda c: c = $column) as value,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

final as (
    select count(*) as rows, min(key_value, 5) as examples, [] as found
    from checked
    where value is null
)

select * from final
