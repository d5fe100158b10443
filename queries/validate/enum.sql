-- One row: how many rows of table $table have a $column that is not one of $allowed, up to five of
-- their primary keys ($key), and up to five of the values found (so the analyst knows what to map).
with checked as (
    select
        columns(lambda c: c = $column) as value,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

final as (
    select
        count(*) as rows,
        min(key_value, 5) as examples,
        list(distinct value order by value)[1:5] as found
    from checked
    where value is not null and not list_contains($allowed, value)
)

select * from final
