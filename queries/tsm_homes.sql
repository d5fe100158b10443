-- One row per as-of date D: the whole landlord's homes in stock on D, as the TSM return counts them.
-- homes: the "per 1,000 homes" denominator of kpis.md (leasehold excluded): rented and shared-ownership
-- homes, as the regulator sizes a landlord (its size band counts homes owned, LCRA and LCHO combined).
-- rented_homes: those of them that are rented homes (low-cost rental: general_needs, supported,
-- older_persons): CH01's denominator, "rented homes at D".
-- order by: as_of
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

final as (
    select
        w.as_of,
        homes_in_stock(w.as_of, null) as homes,
        (
            select count(*)
            from stg_properties as p
            where p.is_rented_home
              and in_stock_on(p.in_stock_from, p.in_stock_to, w.as_of)
        ) as rented_homes
    from weeks as w
)

select * from final
