-- One row: how many rows of table $table have a $column (when set) that names no row of
-- $parent.$parent_column, up to five of their primary keys ($key), and up to three values not found.
with children as (
    select
        cast(columns(lambda c: c = $column) as varchar) as reference,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from query_table($table)
),

parents as (
    select cast(columns(lambda c: c = $parent_column) as varchar) as id
    from query_table($parent)
),

missing as (
    select c.*
    from children as c
    anti join parents as p on p.id = c.reference
    where c.reference is not null
),

final as (
    select count(*) as rows, min(key_value, 5) as examples, min(reference, 3) as found
    from missing
)

select * from final
