-- One row: how many homes the extract lists (every row of properties, whatever its tenure or dates),
-- which sizes the steps a store's figures are computed in.
with final as (
    select count(*) as homes from properties
)

select * from final
