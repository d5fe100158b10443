-- One row per team: how many repair jobs, damp and mould cases and complaints the extract records
-- against it, at any date. A team with none of one kind does not do that work (remit.py).
-- order by: team_id
with repairs_by_team as (
    select team_id, count(*) as repairs from repairs group by team_id
),

cases_by_team as (
    select team_id, count(*) as damp_mould_cases from damp_mould_cases group by team_id
),

complaints_by_team as (
    select team_id, count(*) as complaints from complaints group by team_id
),

final as (
    select
        t.team_id,
        coalesce(r.repairs, 0) as repairs,
        coalesce(c.damp_mould_cases, 0) as damp_mould_cases,
        coalesce(x.complaints, 0) as complaints
    from teams as t
    left join repairs_by_team as r on r.team_id = t.team_id
    left join cases_by_team as c on c.team_id = t.team_id
    left join complaints_by_team as x on x.team_id = t.team_id
)

select * from final
