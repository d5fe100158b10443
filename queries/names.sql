-- One row per region, team and contractor the extract names: what a scope may name, and the words a
-- reader sees for an id. Regions come from homes and teams.
-- order by: kind, region nulls first, label, id
with regions as (
    select region from properties where region is not null
    union
    select region from teams where region is not null
),

final as (
    select 'region' as kind, region as id, region as label, region, null as function from regions
    union all
    select 'team', team_id, team_name, region, function from teams
    union all
    select 'contractor', contractor_id, contractor_name, null, null from contractors
)

select * from final
