-- One row per manager named in the teams table (compared without case): the teams they manage.
with final as (
    select lower(trim(manager_email)) as manager_email, list(team_id order by team_id) as teams
    from teams
    where manager_email is not null
    group by all
)

select * from final
