-- One row per repair appointment (jobs of any priority, planned included) whose slot_start
-- is in the reporting week and whose outcome is not pending, per as-of date, in scope. An
-- appointment follows its job for scope: the job's property's region and the job's team.
-- The outcome has no time of its own, so it is taken as it stands in the extract. An
-- appointment with no outcome recorded (null, a data-quality warning, whose rows are used:
-- extract-contract.md "Validation") is not pending, so it is counted, as neither no access
-- nor landlord missed (the rules are setup/4_rules.sql's).
-- An appointment whose job is missing from the extract has no region or team: it counts
-- for the whole landlord only.
-- Behind: rp.no_access_pct (is_no_access) and rp.landlord_missed_pct (is_landlord_missed:
-- cancelled_by_landlord or missed_by_operative).
-- order by: as_of, slot_start, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

appointments_in_scope as (
    select
        a.*,
        j.property_id,
        j.region,
        j.area,
        j.team_id,
        j.contractor_id,
        j.contractor_name,
        j.is_in_house,
        j.priority,
        j.category,
        j.reported_at
    from appointments as a
    left join stg_repairs as j on j.job_id = a.job_id
    where within_reporting_weeks(a.slot_start, $as_of_dates)
      and in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

final as (
    select
        w.as_of,
        a.appointment_id as id,
        a.job_id,
        a.property_id,
        a.region,
        a.area,
        a.team_id,
        a.contractor_id,
        a.contractor_name,
        a.priority,
        a.category,
        a.reported_at,
        a.slot_start,
        a.outcome,
        is_no_access(a.outcome) as is_no_access,
        is_landlord_missed(a.outcome) as is_landlord_missed,
        a.is_in_house
    from weeks as w
    inner join appointments_in_scope as a
        on a.slot_start >= w.week_start
        and a.slot_start < w.week_end
        and appointment_counted(a.outcome)
)

select * from final
