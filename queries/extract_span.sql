-- One row: where the extract's history starts and ends, from the records every figure is built on
-- (repairs reported, damp and mould cases reported, complaints received).
with records as (
    select reported_at as recorded_at from repairs
    union all select reported_at from damp_mould_cases
    union all select received_at from complaints
),

final as (
    select
        min(recorded_at) as first_record_at,
        max(recorded_at) as last_record_at
    from records
)

select * from final
