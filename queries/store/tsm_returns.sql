-- One row per measure of our TSM return for one reporting year ($year, e.g. '2024-25'), as
-- tsm.our_figures computed it when the store was prepared (tsm.returns_frame).
with final as (
    select * from tsm_returns where year = $year
)

select * from final
