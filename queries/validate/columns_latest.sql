-- One row: the largest value of each of the columns $columns of table $table ("latest:COLUMN").
-- Validation reads it first, to skip the "after the extract was taken" checks no row can fail
-- (housing_assurance/validate.py `_cannot_fail`): one scan of the table instead of a query per column.
with final as (
    select max(columns(lambda c: list_contains($columns, c))) as 'latest:\0'
    from query_table($table)
)

select * from final
