-- One row per column of a table's parquet parts (values in hive folder names read as text, so that
-- area=0012 stays "0012"; they are cast to the contract's type like any other column).
describe select * from read_parquet($glob, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)
