-- One row: how many rows of table $table have a $column after the extract was taken ($extracted_at,
-- compared as a date for date columns), and up to five of their primary keys ($key).
with checked as (
    select
        cast(columns(lambda c: c = $column) as timestamp) as value,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

final as (
    select count(*) as rows, min(key_value, 5) as examples, [] as found
    from checked
    where value > cast($after as timestamp)
)

select * from final
