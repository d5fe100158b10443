-- Rules of kpis.md that several queries share, written once.

-- A tenancy covers date d when it started on or before d and has not ended before d.
create or replace macro tenancy_covers(tenancy_start, tenancy_end, d) as
    tenancy_start <= d and (tenancy_end is null or tenancy_end >= d);

-- Vulnerable household at D: at least one vulnerability recorded on or before D. A row with no
-- household_id belongs to a vulnerable household when any household whose tenancy at the row's
-- property covers the row's date is vulnerable.
create or replace macro is_vulnerable_household(row_household_id, as_of) as
    coalesce((
        select v.vulnerable_since <= as_of from stg_household_vulnerable_since as v
        where v.household_id = row_household_id), false);

create or replace macro belongs_to_vulnerable_household(row_household_id, row_property_id, row_date, as_of) as
    case
        when row_household_id is not null then is_vulnerable_household(row_household_id, as_of)
        else coalesce(exists (
            select 1
            from households as h
            inner join stg_household_vulnerable_since as v on v.household_id = h.household_id
            where h.property_id = row_property_id
              and tenancy_covers(h.tenancy_start, h.tenancy_end, cast(row_date as date))
              and v.vulnerable_since <= as_of), false)
    end;

-- First-time fix (rp.first_time_fix_pct, and the contractor scorecard): exactly one attended
-- appointment with slot_start before E, and no job with parent_job_id = the job reported before E
-- (any priority or status). Counts of what is known at E; later visits and jobs are not yet known.
create or replace macro attended_appointments_known(job, week_end) as (
    select count(*) from appointments as a
    where a.job_id = job and a.outcome = 'attended' and a.slot_start < week_end
);

create or replace macro follow_on_jobs_known(job, week_end) as (
    select count(*) from repairs as f
    where f.parent_job_id = job and f.reported_at < week_end
);

create or replace macro is_first_time_fix(attended_appointments, follow_on_jobs) as
    coalesce(attended_appointments, 0) = 1 and coalesce(follow_on_jobs, 0) = 0;

-- Appointments (rp.no_access_pct, rp.landlord_missed_pct, and the contractor scorecard): counted when the
-- outcome is not pending; an outcome not recorded (null, a warning whose rows are used) is not pending,
-- so it counts, as neither no access nor landlord missed.
create or replace macro appointment_counted(outcome) as outcome is distinct from 'pending';

create or replace macro is_no_access(outcome) as coalesce(outcome = 'no_access', false);

create or replace macro is_landlord_missed(outcome) as
    coalesce(outcome in ('cancelled_by_landlord', 'missed_by_operative'), false);
