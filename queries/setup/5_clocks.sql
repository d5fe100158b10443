-- Every clock's deadline, built once per case (lengths and calendars from housing_assurance/clocks.py
-- by clock code; see 1_calendar.sql).

-- Awaab's Law clocks, one row per case and clock that applies to it. due_by is the last instant that
-- meets the clock: reported_at + 24h for the hour clock, the end of the deadline date for the
-- working-day and 12-week clocks. started_at is the event that starts the clock (a clock that has not
-- started before E is not running at E). action_at is when the clock's action happened (for the
-- emergency clock, the later of the two actions, and null until both are done).
create or replace table dm_case_clocks as
with emergency as (
    select
        case_id,
        'emergency_made_safe_24h' as clock,
        reported_at as started_at,
        cast(reported_at + to_hours(clock_length('emergency_made_safe_24h')) as date) as due_on,
        reported_at + to_hours(clock_length('emergency_made_safe_24h')) as due_by,
        case
            when investigation_completed_at is not null and safety_work_completed_at is not null
                then greatest(investigation_completed_at, safety_work_completed_at)
        end as action_at
    from damp_mould_cases
    where hazard_level = 'emergency'
),

investigated as (
    select
        case_id,
        'investigated_10wd' as clock,
        reported_at as started_at,
        working_day_deadline('investigated_10wd', reported_at) as due_on,
        end_of_day(working_day_deadline('investigated_10wd', reported_at)) as due_by,
        investigation_completed_at as action_at
    from damp_mould_cases
    where hazard_level is null or hazard_level <> 'emergency'
),

summary as (
    select
        case_id,
        'summary_3wd' as clock,
        investigation_completed_at as started_at,
        working_day_deadline('summary_3wd', investigation_completed_at) as due_on,
        end_of_day(working_day_deadline('summary_3wd', investigation_completed_at)) as due_by,
        summary_sent_at as action_at
    from damp_mould_cases
    where investigation_completed_at is not null
),

safety_work as (
    select
        case_id,
        'safety_work_5wd' as clock,
        investigation_completed_at as started_at,
        working_day_deadline('safety_work_5wd', investigation_completed_at) as due_on,
        end_of_day(working_day_deadline('safety_work_5wd', investigation_completed_at)) as due_by,
        safety_work_completed_at as action_at
    from damp_mould_cases
    where hazard_level = 'significant' and investigation_completed_at is not null
),

further_work as (
    select
        case_id,
        'further_work_12wk' as clock,
        investigation_completed_at as started_at,
        cast(investigation_completed_at as date) + clock_length('further_work_12wk') as due_on,
        end_of_day(cast(investigation_completed_at as date) + clock_length('further_work_12wk')) as due_by,
        further_work_started_at as action_at
    from damp_mould_cases
    where further_work_required and investigation_completed_at is not null
),

final as (
    select * from emergency
    union all select * from investigated
    union all select * from summary
    union all select * from safety_work
    union all select * from further_work
)

select * from final;

-- Complaint Handling Code clocks, one row per complaint. Because an acknowledgement recorded at or
-- after E is not yet known at E, each response deadline is kept in two versions: from the recorded
-- acknowledgement, and from the acknowledgement deadline; response_due_on() picks the one that
-- applies at E. An agreed extension moves the deadline to its date when later, capped at the
-- stage's extension cap (working days after the normal deadline).
create or replace macro with_extension(normal_due_on, extended_to, cap_clock) as
    case
        when extended_to > normal_due_on then least(extended_to, working_day_deadline(cap_clock, normal_due_on))
        else normal_due_on
    end;

create or replace table complaint_clocks as
with acknowledgement_deadlines as (
    select
        complaint_id,
        stage1_extended_to,
        stage2_extended_to,
        working_day_deadline('stage1_acknowledge', received_at) as stage1_ack_due_on,
        stage1_acknowledged_at,
        stage2_requested_at,
        case when stage2_requested_at is not null then working_day_deadline('stage2_acknowledge', stage2_requested_at)
        end as stage2_ack_due_on,
        stage2_acknowledged_at
    from complaints
),

normal_response_deadlines as (
    select
        *,
        working_day_deadline('stage1_respond', stage1_acknowledged_at) as stage1_normal_due_from_ack,
        working_day_deadline('stage1_respond', stage1_ack_due_on) as stage1_normal_due_from_ack_due,
        working_day_deadline('stage2_respond', stage2_acknowledged_at) as stage2_normal_due_from_ack,
        working_day_deadline('stage2_respond', stage2_ack_due_on) as stage2_normal_due_from_ack_due
    from acknowledgement_deadlines
),

final as (
    select
        complaint_id,
        stage1_ack_due_on,
        with_extension(stage1_normal_due_from_ack, stage1_extended_to, 'stage1_extension_cap')
            as stage1_response_due_on_from_ack,
        with_extension(stage1_normal_due_from_ack_due, stage1_extended_to, 'stage1_extension_cap')
            as stage1_response_due_on_from_ack_due,
        stage2_ack_due_on,
        with_extension(stage2_normal_due_from_ack, stage2_extended_to, 'stage2_extension_cap')
            as stage2_response_due_on_from_ack,
        with_extension(stage2_normal_due_from_ack_due, stage2_extended_to, 'stage2_extension_cap')
            as stage2_response_due_on_from_ack_due
    from normal_response_deadlines
)

select * from final;

-- The response deadline that applies at E: from the acknowledgement if it was recorded before E.
create or replace macro response_due_on(acknowledged_at, week_end, due_from_ack, due_from_ack_due) as
    case when acknowledged_at < week_end then due_from_ack else due_from_ack_due end;
