-- One row: the complaint $complaint_id as recorded (stages, outcome, compensation, Ombudsman).
with final as (
    select
        c.complaint_id,
        c.category,
        c.received_at,
        c.stage1_responded_at,
        c.stage2_requested_at,
        c.stage2_responded_at,
        c.outcome,
        c.compensation_offered_gbp,
        c.compensation_paid_gbp,
        c.ombudsman_referred_at,
        c.ombudsman_determined_at,
        c.ombudsman_outcome,
        c.learning_action
    from complaints as c
    where c.complaint_id = $complaint_id
)

select * from final
