-- One row per satisfaction survey answer about a repair job (surveys with a job_id; jobs of
-- any priority) whose responded_at is in the reporting week, per as-of date, in scope.
-- A survey follows its job for scope: the job's property's region and the job's team;
-- is_in_house is the job's contractor's. A survey whose job is missing from the extract
-- has no region, team or contractor: it counts for the whole landlord only, in neither
-- contractor split.
-- Behind: rp.satisfaction_pct and ct.in_house_satisfaction_pct / ct.external_satisfaction_pct.
-- order by: as_of, responded_at, id
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

surveys_in_scope as (
    select
        s.*,
        j.property_id,
        j.region,
        j.area,
        j.team_id,
        j.contractor_id,
        j.contractor_name,
        j.is_in_house,
        j.priority,
        j.category,
        j.reported_at,
        j.completed_at
    from surveys as s
    left join stg_repairs as j on j.job_id = s.job_id
    where s.job_id is not null
      and within_reporting_weeks(s.responded_at, $as_of_dates)
      and in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

final as (
    select
        w.as_of,
        s.survey_id as id,
        s.job_id,
        s.property_id,
        s.region,
        s.area,
        s.team_id,
        s.contractor_id,
        s.contractor_name,
        s.priority,
        s.category,
        s.reported_at,
        s.completed_at,
        s.responded_at,
        s.score,
        s.satisfied,
        s.is_in_house
    from weeks as w
    inner join surveys_in_scope as s
        on s.responded_at >= w.week_start
        and s.responded_at < w.week_end
)

select * from final
