-- One row per damp and mould case among $case_ids, with the team that owns it.
-- order by: case_id
with final as (
    select case_id, team_id
    from damp_mould_cases
    where list_contains(cast($case_ids as varchar[]), case_id)
)

select * from final
