-- One row: the regions whose homes and households a scope covers (null = every region).
with final as (
    select scope_regions($scope_region, cast($scope_teams as varchar[])) as regions
)

select * from final
