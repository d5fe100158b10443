-- One row per home scored for homes at risk at the prepared week ($as_of), as risk.score_homes gave it.
with final as (
    select * from risk_scores where as_of = $as_of
)

select * from final
