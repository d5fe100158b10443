-- One row per validation finding, as validated when the store was prepared.
with final as (
    select * from validation_findings
)

select * from final
