-- Every address named as a team's manager (compared without case): a listed manager whose address
-- is not here manages no team in this extract.
-- order by: email
with final as (
    select distinct lower(trim(manager_email)) as email
    from teams
    where manager_email is not null
)

select * from final
