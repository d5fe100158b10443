-- One row per team whose manager is the given e-mail address (compared without case):
-- the teams a manager sees.
-- order by: team_id
with final as (
    select team_id, team_name, region
    from teams
    where lower(trim(manager_email)) = $email
)

select * from final
