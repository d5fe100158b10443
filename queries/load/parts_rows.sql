-- One row: how many rows a table's parquet parts hold (from the footers, so cheap).
with final as (
    select count(*) as rows from read_parquet($glob, hive_partitioning = true, union_by_name = true,
        hive_types_autocast = false)
)

select * from final
