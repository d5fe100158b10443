-- One row per fact the store keeps about itself (format, recipe, content key, source folder, manifest …).
with final as (
    select key, value from store_meta
)

select * from final
