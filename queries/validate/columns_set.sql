-- One row: how many rows table $table has (row_count), and for each of its columns how many rows have it
-- set ("nonnull:COLUMN"). Validation reads it first, to skip the required-column checks no row can fail
-- (housing_assurance/validate.py `_cannot_fail`): one scan of the table instead of a query per column.
with final as (
    select
        count(*) as row_count,
        count(columns(*)) as 'nonnull:\0'
    from query_table($table)
)

select * from final
