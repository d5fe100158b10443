-- Every row of a table's parquet parts, as stored (the caller casts each contract column).
with final as (
    select * from read_parquet($glob, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)
)

select * from final
