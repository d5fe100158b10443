-- One row per home per as-of date D with damp and mould reported after D: the outcome the
-- risk model learns and is judged on (docs/homes-at-risk.md). A home has an outcome when a
-- damp_mould_cases row at it (its home: the property, or else the household's) was
-- reported within 91 days after E = D+1 00:00 (E < reported_at <= E + 91 days) and before
-- $known_before, so training at a later date only learns outcomes that were known then.
-- order by: as_of, property_id
with dates as (
    select
        as_of,
        cast(as_of + 1 as timestamp) as week_end
    from (select unnest(cast($as_of_dates as date[])) as as_of)
),

final as (
    select
        d.as_of,
        c.property_id,
        count(*) as dm_cases_reported_13w,
        min(c.reported_at) as first_reported_at
    from dates as d
    inner join stg_damp_mould_cases as c
        on c.reported_at > d.week_end
        and c.reported_at <= d.week_end + interval 91 day
        and c.reported_at < cast($known_before as timestamp)
    where c.property_id is not null
    group by d.as_of, c.property_id
)

select * from final
