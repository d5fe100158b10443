-- One row: how many rows of a table's parquet parts ($glob), read as stored (loading turns these values
-- into nulls), hold NaN or an infinite number in the double column $column, and up to five of their
-- primary keys ($key). Counted with aggregate filters, not a where clause: DuckDB pushes a where clause
-- into the parquet scan, whose statistics leave NaN out, and would skip the very rows sought.
with parts as (
    select * from read_parquet($glob, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)
),

checked as (
    select
        not isfinite(cast(columns(lambda c: c = $column) as double)) as is_not_finite,
        cast(columns(lambda c: c = $key) as varchar) as key_value
    from parts
),

final as (
    select
        count(*) filter (where is_not_finite) as rows,
        min(key_value, 5) filter (where is_not_finite) as examples,
        [] as found
    from checked
)

select * from final
