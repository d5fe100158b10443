-- One row: how many appointments have a slot_start after the extract was taken ($after) although
-- their outcome says the visit has happened (not pending), and up to five of their ids.
with final as (
    select count(*) as rows, min(appointment_id, 5) as examples, [] as found
    from appointments
    where slot_start > cast($after as timestamp)
      and outcome is distinct from 'pending'
)

select * from final
