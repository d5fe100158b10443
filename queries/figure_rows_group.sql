-- One row per group of a KPI query's rows ($source: the query's whole-landlord rows for some weeks)
-- with the same values in the columns the figures need ($kept), and how many rows the group holds (n).
-- $one_per_row keeps every row (n = 1): a median, mean or sum needs the values themselves.
with kept as (
    select columns(lambda c: list_contains($kept, c))
    from query_table($source)
),

grouped as (
    select *, count(*)::bigint as n
    from kept
    group by all
),

final as (
    select * from grouped where not $one_per_row
    union all by name
    select *, 1::bigint as n from kept where $one_per_row
)

select * from final
