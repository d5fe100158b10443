-- One row: the primary-key values of table $table (column $key) used by more than one row, how many
-- rows carry them, and up to five of them.
with keys as (
    select columns(lambda c: c = $key) as key_value
    from query_table($table)
),

duplicates as (
    select key_value, count(*) as rows
    from keys
    where key_value is not null
    group by key_value
    having count(*) > 1
),

final as (
    select
        count(*) as keys,
        coalesce(sum(rows), 0) as rows,
        min(key_value, 5) as examples
    from duplicates
)

select * from final
