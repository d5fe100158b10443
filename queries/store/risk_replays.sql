-- One row per home scored at each back-test date of the prepared week ($as_of), as risk.replay gave it,
-- with the replay's training counts and whether the home reported in the 13 weeks after that date.
-- order by: replay_as_of, property_id
with final as (
    select * from risk_replays where for_as_of = $as_of
)

select * from final
