-- One row per table in the database (a prepared store holds more than an extract opened in memory).
with final as (
    select table_name from duckdb_tables()
)

select * from final
