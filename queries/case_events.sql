-- One row per event in the story of a home ($property_id): damp and mould case milestones, repair
-- jobs (reported, completed, cancelled), their appointments, residents' contacts, complaint stages
-- and satisfaction surveys. The ids on each row (case_id, job_id, complaint_id) let the Case page
-- mark which events belong to the case being looked at. A job, case, contact or complaint is at the
-- home by the staging tables' rule (its property_id, or its household's home); appointments and
-- surveys follow their job or complaint. team_id is the team whose record the event belongs to
-- (a contact's: its job's, case's or complaint's; null for a contact linked to none), and in_scope
-- says whether the scope ($scope_region, $scope_teams: the user's own) may see that record, by the
-- one scope rule (a record of no team is in no team's scope).
-- order by: event_at, lane, event, ref_id
with dm as (
    select * from stg_damp_mould_cases where property_id = $property_id
),

jobs as (
    select * from stg_repairs where property_id = $property_id
),

home_complaints as (
    select * from stg_complaints where property_id = $property_id
),

dm_events as (
    select
        e.event_at, 'Damp and mould' as lane, e.event, e.detail,
        c.case_id, null::varchar as job_id, null::varchar as complaint_id, c.case_id as ref_id, c.team_id
    from dm as c,
        lateral (
            values
                (c.reported_at, 'Damp and mould reported',
                 'reported by ' || replace(c.source, '_', ' ')),
                (c.investigation_completed_at, 'Investigation completed',
                 concat_ws('; ',
                     'hazard: ' || coalesce(replace(c.hazard_level, '_', ' '), 'not recorded'),
                     'severity ' || c.severity_category,
                     'root cause: ' || replace(c.root_cause, '_', ' '),
                     case when c.further_work_required then 'further work needed' end)),
                (c.summary_sent_at, 'Written summary sent to the resident', null),
                (c.safety_work_started_at, 'Safety work started', null),
                (c.safety_work_completed_at, 'Safety work completed', null),
                (c.further_work_started_at, 'Further work started', null),
                (c.resolved_at, 'Resolved', null),
                (c.closed_at, 'Case closed', null)
        ) as e(event_at, event, detail)
    where e.event_at is not null
),

job_events as (
    select
        e.event_at, 'Repair jobs' as lane, e.event, e.detail,
        j.dm_case_id as case_id, j.job_id, null::varchar as complaint_id, j.job_id as ref_id, j.team_id
    from jobs as j
    left join contractors as k on k.contractor_id = j.contractor_id,
        lateral (
            values
                (j.reported_at, 'Repair reported',
                 concat_ws('; ', j.priority || ' ' || replace(j.category, '_', ' '),
                     coalesce(k.contractor_name, j.contractor_id),
                     'target ' || strftime(j.target_at, '%-d %b %Y %H:%M'),
                     case when j.parent_job_id is not null then 'follow-on of ' || j.parent_job_id end)),
                (j.completed_at, 'Repair completed',
                 concat_ws('; ',
                     case when j.completed_at <= j.target_at then 'within target' else 'after target' end,
                     case when j.completion_verified then 'completion verified'
                          else 'completion not verified' end,
                     case when j.source_system = 'spreadsheet' then 'recorded offline (spreadsheet)' end)),
                (j.cancelled_at, 'Repair cancelled', null)
        ) as e(event_at, event, detail)
    where e.event_at is not null
),

appointment_events as (
    select
        a.slot_start as event_at, 'Appointments' as lane,
        'Appointment: ' || replace(a.outcome, '_', ' ') as event,
        null as detail,
        j.dm_case_id as case_id, j.job_id, null::varchar as complaint_id, a.appointment_id as ref_id,
        j.team_id
    from appointments as a
    inner join jobs as j on j.job_id = a.job_id
),

contact_events as (
    select
        c.contacted_at as event_at, 'Contacts' as lane,
        'Contact: ' || replace(c.reason, '_', ' ') as event,
        'by ' || replace(c.channel, '_', ' ') as detail,
        c.dm_case_id as case_id, c.job_id, c.complaint_id, c.contact_id as ref_id,
        coalesce(rj.team_id, dc.team_id, cc.team_id) as team_id
    from stg_contacts as c
    left join repairs as rj on rj.job_id = c.job_id
    left join damp_mould_cases as dc on dc.case_id = c.dm_case_id
    left join complaints as cc on cc.complaint_id = c.complaint_id
    where c.property_id = $property_id
),

complaint_events as (
    select
        e.event_at, 'Complaints' as lane, e.event, e.detail,
        null::varchar as case_id, null::varchar as job_id, c.complaint_id, c.complaint_id as ref_id,
        c.team_id
    from home_complaints as c,
        lateral (
            values
                (c.received_at, 'Complaint received', 'about ' || replace(c.category, '_', ' ')),
                (c.stage1_acknowledged_at, 'Stage 1 acknowledged', null),
                (c.stage1_responded_at, 'Stage 1 response', null),
                (c.stage2_requested_at, 'Stage 2 requested', null),
                (c.stage2_acknowledged_at, 'Stage 2 acknowledged', null),
                (c.stage2_responded_at, 'Stage 2 response',
                 'outcome: ' || replace(c.outcome, '_', ' ')),
                (cast(c.ombudsman_referred_at as timestamp), 'Referred to the Ombudsman', null),
                (cast(c.ombudsman_determined_at as timestamp), 'Ombudsman determination',
                 replace(c.ombudsman_outcome, '_', ' '))
        ) as e(event_at, event, detail)
    where e.event_at is not null
),

survey_events as (
    select
        s.responded_at as event_at, 'Surveys' as lane,
        case when s.satisfied then 'Survey: satisfied' else 'Survey: not satisfied' end as event,
        case when s.score is not null then 'score ' || s.score || ' of 5' end as detail,
        j.dm_case_id as case_id, s.job_id, s.complaint_id, s.survey_id as ref_id,
        coalesce(j.team_id, c.team_id) as team_id
    from surveys as s
    left join jobs as j on j.job_id = s.job_id
    left join home_complaints as c on c.complaint_id = s.complaint_id
    where j.job_id is not null or c.complaint_id is not null
),

events as (
    select * from dm_events
    union all select * from job_events
    union all select * from appointment_events
    union all select * from contact_events
    union all select * from complaint_events
    union all select * from survey_events
),

final as (
    select
        e.*,
        in_scope(h.region, e.team_id, $scope_region, cast($scope_teams as varchar[])) as in_scope
    from events as e
    left join properties as h on h.property_id = $property_id
)

select * from final
