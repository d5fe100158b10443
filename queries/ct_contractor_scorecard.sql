-- One row per contractor (the in-house workforce included) per as-of date D: its scorecard
-- over the 13 weeks ending D, the dates D-90 .. D (window_start = D-90 00:00 <= t < E = D+1 00:00),
-- in scope: only its jobs at properties in the region and/or owned by the teams in scope.
--   jobs completed       responsive jobs (emergency, urgent, routine) with completed_at in the window
--   on time %            of those, completed_at <= target_at
--   first-time fix %     of those, exactly one attended appointment with slot_start < E and no job
--                        with parent_job_id = the job reported before E (as rp.first_time_fix_pct)
--   follow-on jobs %     of those, a job (any priority or status) with parent_job_id = the job
--                        reported before E
--   no access %, landlord-missed %
--                        appointments of its jobs (any priority, as rp.no_access_pct) with
--                        slot_start in the window and outcome not pending (a null outcome is
--                        counted, as neither): % no_access; % cancelled_by_landlord or missed_by_operative
--   satisfaction %       surveys of its jobs (any priority, as ct.*_satisfaction_pct) with
--                        responded_at in the window: % satisfied
--   average cost         mean cost_gbp over the completed jobs that have a cost (null costs are
--                        left out; null when no completed job has a cost)
-- A percentage whose denominator is 0 is null. A contractor appears when it has at least one
-- completed job, appointment or survey in the window in scope. Appointments, surveys and
-- follow-on jobs are searched through the jobs they belong to, in the whole extract.
-- Used by housing_assurance.contractors.contractor_scorecard.
-- order by: as_of, on_time_pct nulls last, jobs_completed desc, contractor_name, contractor_id
with windows as (
    select
        as_of,
        cast(as_of - 90 as timestamp) as window_start,
        week_end
    from reporting_weeks($as_of_dates)
),

jobs_in_scope as not materialized (  -- inlined where each step joins it: a fifth faster at 120,000 homes
    select j.*
    from stg_repairs as j
    where in_scope(j.region, j.team_id, $scope_region, cast($scope_teams as varchar[]))
),

completed as (
    select
        w.as_of,
        w.week_end,
        j.job_id,
        j.contractor_id,
        j.cost_gbp,
        coalesce(j.completed_at <= j.target_at, false) as is_on_time
    from windows as w
    inner join jobs_in_scope as j
        on j.is_responsive
        and j.completed_at >= w.window_start
        and j.completed_at < w.week_end
),

completed_jobs as (
    select
        c.as_of,
        c.contractor_id,
        c.cost_gbp,
        c.is_on_time,
        is_first_time_fix(attended_appointments_known(c.job_id, c.week_end),
                          follow_on_jobs_known(c.job_id, c.week_end)) as is_first_time_fix,
        follow_on_jobs_known(c.job_id, c.week_end) > 0 as has_follow_on
    from completed as c
),

job_scores as (
    select
        as_of,
        contractor_id,
        count(*) as jobs_completed,
        count(*) filter (where is_on_time) as jobs_on_time,
        count(*) filter (where is_first_time_fix) as jobs_fixed_first_time,
        count(*) filter (where has_follow_on) as jobs_with_follow_on,
        count(cost_gbp) as jobs_with_cost,
        -- summed exactly (to a millionth of a pound): a sum of doubles over threads varies in its last
        -- digits from run to run, and the scorecard must be the same every time it is asked for
        cast(avg(cast(cost_gbp as decimal(18, 6))) as double) as avg_cost_gbp
    from completed_jobs
    group by as_of, contractor_id
),

appointment_scores as (
    select
        w.as_of,
        j.contractor_id,
        count(*) as appointments,
        count(*) filter (where is_no_access(a.outcome)) as no_access_appointments,
        count(*) filter (where is_landlord_missed(a.outcome)) as landlord_missed_appointments
    from windows as w
    inner join appointments as a
        on a.slot_start >= w.window_start
        and a.slot_start < w.week_end
        and appointment_counted(a.outcome)
    inner join jobs_in_scope as j on j.job_id = a.job_id
    group by w.as_of, j.contractor_id
),

survey_scores as (
    select
        w.as_of,
        j.contractor_id,
        count(*) as surveys,
        count(*) filter (where s.satisfied) as satisfied_surveys
    from windows as w
    inner join surveys as s
        on s.responded_at >= w.window_start
        and s.responded_at < w.week_end
    inner join jobs_in_scope as j on j.job_id = s.job_id
    group by w.as_of, j.contractor_id
),

contractors_seen as (
    select as_of, contractor_id from job_scores
    union
    select as_of, contractor_id from appointment_scores
    union
    select as_of, contractor_id from survey_scores
),

final as (
    select
        s.as_of,
        w.window_start::date as period_start,
        s.as_of as period_end,
        s.contractor_id as id,
        s.contractor_id,
        coalesce(k.contractor_name, s.contractor_id) as contractor_name,
        k.is_in_house,
        coalesce(j.jobs_completed, 0) as jobs_completed,
        coalesce(j.jobs_on_time, 0) as jobs_on_time,
        100.0 * j.jobs_on_time / nullif(j.jobs_completed, 0) as on_time_pct,
        coalesce(j.jobs_fixed_first_time, 0) as jobs_fixed_first_time,
        100.0 * j.jobs_fixed_first_time / nullif(j.jobs_completed, 0) as first_time_fix_pct,
        coalesce(j.jobs_with_follow_on, 0) as jobs_with_follow_on,
        100.0 * j.jobs_with_follow_on / nullif(j.jobs_completed, 0) as follow_on_jobs_pct,
        coalesce(a.appointments, 0) as appointments,
        coalesce(a.no_access_appointments, 0) as no_access_appointments,
        100.0 * a.no_access_appointments / nullif(a.appointments, 0) as no_access_pct,
        coalesce(a.landlord_missed_appointments, 0) as landlord_missed_appointments,
        100.0 * a.landlord_missed_appointments / nullif(a.appointments, 0) as landlord_missed_pct,
        coalesce(v.surveys, 0) as surveys,
        coalesce(v.satisfied_surveys, 0) as satisfied_surveys,
        100.0 * v.satisfied_surveys / nullif(v.surveys, 0) as satisfaction_pct,
        coalesce(j.jobs_with_cost, 0) as jobs_with_cost,
        j.avg_cost_gbp
    from contractors_seen as s
    inner join windows as w on w.as_of = s.as_of
    left join contractors as k on k.contractor_id = s.contractor_id
    left join job_scores as j on j.as_of = s.as_of and j.contractor_id = s.contractor_id
    left join appointment_scores as a on a.as_of = s.as_of and a.contractor_id = s.contractor_id
    left join survey_scores as v on v.as_of = s.as_of and v.contractor_id = s.contractor_id
)

select * from final
