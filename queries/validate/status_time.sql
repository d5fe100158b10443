-- One row: how many rows of table $table have status column $status = $value while $column is
-- missing ($missing = true: the status says it happened but no time is recorded) or present
-- ($missing = false: a time is recorded but the status says it has not happened), and up to five of
-- their primary keys ($key).
with checked as (
    select
        columns(lambda c: c = $status) as status_value,
        columns(lambda c: c = $column) as value,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

final as (
    select count(*) as rows, min(key_value, 5) as examples, [] as found
    from checked
    where status_value = $value and (value is null) = $missing
)

select * from final
