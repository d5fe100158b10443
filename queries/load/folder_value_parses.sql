-- One row: whether a hive folder name's text ($value) is a value of the contract type $type
-- (string and enum columns take any text).
with final as (
    select case $type
        when 'int' then try_cast($value as bigint) is not null
        when 'double' then try_cast($value as double) is not null
        when 'bool' then try_cast($value as boolean) is not null
        when 'date' then try_cast($value as date) is not null
        when 'timestamp' then try_cast($value as timestamp) is not null
        else true
    end as parses
)

select * from final
