-- One row per home scored at each back-test date of the prepared week ($as_of), as risk.replay gave it
-- (risk.REPLAY_COLUMNS: what a back-test reads), with the replay's training counts and whether the home
-- reported in the 13 weeks after that date.
-- order by: replay_as_of, property_id
with final as (
    select
        property_id,
        region,
        area,
        score,
        for_as_of,
        replay_as_of,
        training_examples,
        training_reports,
        reported
    from risk_replays
    where for_as_of = $as_of
)

select * from final
