-- One row: how many rows of table $table have $later before $earlier (an impossible order of
-- times), and up to five of their primary keys ($key).
with checked as (
    select
        columns(lambda c: c = $earlier) as earlier,
        columns(lambda c: c = $later) as later,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

final as (
    select count(*) as rows, min(key_value, 5) as examples, [] as found
    from checked
    where later < earlier
)

select * from final
