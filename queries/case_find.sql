-- One row per case, job or complaint whose id is $case_id (a damp and mould case id, a repair
-- job id or a complaint id; the same id could in principle name more than one), with what the
-- Case page needs to find its story: the home, the household, the owning team and its region.
-- vulnerable_household: the household is vulnerable by the rule of kpis.md, as known on $as_of
-- (the flag only: the nature of a vulnerability is never shown on the Case page).
-- in_view: the view's scope ($scope_region, $scope_teams) counts it; in_user_scope: the user's own
-- scope ($allowed_region, $allowed_teams) may see it at all (the one scope rule, in_scope).
-- order by: kind, id
with damp_mould as (
    select
        'dm' as kind,
        c.case_id as id,
        c.property_id,
        c.household_id,
        c.team_id,
        c.reported_at as started_at
    from stg_damp_mould_cases as c
    where c.case_id = $case_id
),

jobs as (
    select
        'job' as kind,
        j.job_id as id,
        j.property_id,
        j.household_id,
        j.team_id,
        j.reported_at as started_at
    from stg_repairs as j
    where j.job_id = $case_id
),

complaint as (
    select
        'complaint' as kind,
        c.complaint_id as id,
        c.property_id,
        c.household_id,
        c.team_id,
        c.received_at as started_at
    from stg_complaints as c
    where c.complaint_id = $case_id
),

found as (
    select * from damp_mould
    union all select * from jobs
    union all select * from complaint
),

final as (
    select
        f.kind,
        f.id,
        f.property_id,
        f.household_id,
        f.team_id,
        t.team_name,
        p.region,
        p.area,
        p.address,
        p.postcode,
        p.property_type,
        p.tenure,
        p.build_year,
        p.epc_rating,
        f.started_at,
        belongs_to_vulnerable_household(f.household_id, f.property_id, f.started_at, cast($as_of as date))
            as vulnerable_household,
        in_scope(p.region, f.team_id, $scope_region, cast($scope_teams as varchar[])) as in_view,
        in_scope(p.region, f.team_id, $allowed_region, cast($allowed_teams as varchar[])) as in_user_scope
    from found as f
    left join properties as p on p.property_id = f.property_id
    left join teams as t on t.team_id = f.team_id
)

select * from final
