-- One row per household (and its home) that the teams $scope_teams serve: a household named on one of their repair
-- jobs, damp and mould cases or complaints, or (for such a row with no household) whose tenancy at
-- the row's home covered its date. A manager sees vulnerability details of these households only.
-- order by: household_id
with team_rows as (
    select household_id, property_id, cast(reported_at as date) as row_date
    from stg_repairs where list_contains(cast($scope_teams as varchar[]), team_id)
    union all
    select household_id, property_id, cast(reported_at as date)
    from stg_damp_mould_cases where list_contains(cast($scope_teams as varchar[]), team_id)
    union all
    select household_id, property_id, cast(received_at as date)
    from stg_complaints where list_contains(cast($scope_teams as varchar[]), team_id)
),

named as (
    select household_id from team_rows where household_id is not null
),

by_tenancy as (
    select h.household_id
    from team_rows as r
    inner join households as h
        on h.property_id = r.property_id
        and tenancy_covers(h.tenancy_start, h.tenancy_end, r.row_date)
    where r.household_id is null
),

served as (
    select household_id from named
    union
    select household_id from by_tenancy
),

final as (
    select s.household_id, h.property_id
    from served as s
    left join households as h on h.household_id = s.household_id
)

select * from final
