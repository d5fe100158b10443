-- One row per home per as-of date D: what the extract knew at the end of D about the
-- home's risk of damp and mould (docs/homes-at-risk.md). Homes: in stock on D, any tenure
-- except leasehold (the landlord does not repair inside leasehold homes) — the same homes
-- as the "per 1,000 homes" denominator. Only rows with a timestamp before E = D+1 00:00,
-- tenancies covering D and vulnerabilities recorded on or before D are used; property
-- attributes and household size carry no time of their own and are taken as they stand.
-- $max_homes (null = every home): about this many homes per date, a fixed sample drawn from
-- the md5 of property_id (the same at every run), so a large landlord's training stays fast.
-- order by: as_of, property_id
with dates as (
    select
        as_of,
        cast(as_of + 1 as timestamp) as known_before
    from (select unnest(cast($as_of_dates as date[])) as as_of)
),

-- The span of history any date looks back over (two years at most): rows outside it are never read.
span as (
    select
        min(known_before) - interval 730 day as looks_back_to,
        max(known_before) as known_before
    from dates
),

homes_in_stock as (
    select
        d.as_of,
        d.known_before,
        p.property_id,
        p.region,
        p.area,
        p.property_type,
        p.tenure,
        p.build_year,
        upper(p.epc_rating) as epc_rating,
        p.bedrooms
    from dates as d
    inner join stg_properties as p
        on in_stock_on(p.in_stock_from, p.in_stock_to, d.as_of)
    where p.counts_as_home
),

-- A fixed draw per home from its property id: the same sample of homes at every run.
home_draws as (
    select
        property_id,
        (md5_number(property_id) % 1000000) / 1e6 as draw
    from properties
),

stock_sizes as (
    select
        as_of,
        count(*) as homes_in_stock
    from homes_in_stock
    group by as_of
),

homes as materialized (
    select h.*
    from homes_in_stock as h
    inner join stock_sizes as s on s.as_of = h.as_of
    inner join home_draws as x on x.property_id = h.property_id
    where cast($max_homes as bigint) is null
       or x.draw < cast($max_homes as bigint) / s.homes_in_stock
),

-- The homes at any date: only their jobs, cases, contacts and tenancies are read.
home_ids as materialized (
    select distinct property_id from homes
),

-- Responsive jobs reported in the span (the category's case normalised).
jobs_in_span as (
    select
        r.job_id,
        r.property_id,
        r.parent_job_id,
        r.reported_at,
        r.cancelled_at,
        lower(r.category) as category
    from stg_repairs as r
    inner join span as s
        on r.reported_at >= s.looks_back_to
        and r.reported_at < s.known_before
    where r.is_responsive
      and r.property_id in (select property_id from home_ids)
),

-- Responsive jobs completed late enough to make a job in the span a repeat.
completions as (
    select
        r.property_id,
        lower(r.category) as category,
        r.completed_at
    from stg_repairs as r
    inner join span as s
        on r.completed_at >= s.looks_back_to - interval 30 day
        and r.completed_at < s.known_before
    where r.is_responsive
      and r.property_id in (select property_id from home_ids)
),

-- A repeat: a follow-on job, or the same category at the same home completed in the 30 days
-- before this job was reported (both before this job, so known whenever this job is).
responsive_jobs as (
    select
        j.*,
        j.parent_job_id is not null or exists (
            select 1 from completions as e
            where e.property_id = j.property_id
              and e.category = j.category
              and e.completed_at < j.reported_at
              and e.completed_at >= j.reported_at - interval 30 day
        ) as is_repeat
    from jobs_in_span as j
),

-- Jobs reported in the two years before E, unless cancelled before E (a cancelled job is often a duplicate).
repair_counts as (
    select
        d.as_of,
        j.property_id,
        count(*) filter (where j.category = 'leak') as leak_repairs_2y,
        count(*) filter (where j.category = 'roof') as roof_repairs_2y,
        count(*) filter (where j.category = 'plumbing' and j.reported_at >= d.known_before - interval 365 day)
            as plumbing_repairs_1y,
        count(*) filter (where j.category = 'heating' and j.reported_at >= d.known_before - interval 365 day)
            as heating_repairs_1y,
        count(*) filter (where j.category in ('leak', 'roof', 'plumbing')
                         and j.reported_at >= d.known_before - interval 91 day) as water_repairs_13w,
        count(*) filter (where j.category = 'heating' and j.reported_at >= d.known_before - interval 91 day)
            as heating_repairs_13w,
        count(*) filter (where j.is_repeat and j.reported_at >= d.known_before - interval 365 day)
            as repeat_repairs_1y,
        count(*) filter (where j.reported_at >= d.known_before - interval 365 day) as repairs_1y
    from homes as d
    inner join responsive_jobs as j
        on j.property_id = d.property_id
        and j.reported_at < d.known_before
        and j.reported_at >= d.known_before - interval 730 day
        and (j.cancelled_at is null or j.cancelled_at >= d.known_before)
    group by d.as_of, j.property_id
),

-- Earlier damp and mould cases: how many, how recent, and whether one is still open at E.
damp_history as (
    select
        d.as_of,
        c.property_id,
        count(*) filter (where c.reported_at >= d.known_before - interval 365 day) as dm_cases_1y,
        count(*) filter (where c.reported_at < d.known_before - interval 365 day) as dm_cases_before_1y,
        date_diff('day', max(c.reported_at), d.known_before) as days_since_dm_case,
        bool_or(c.closed_at is null or c.closed_at >= d.known_before) as has_open_dm_case,
        max(struct_pack(reported_at := c.reported_at, case_id := c.case_id)).case_id as latest_case_id
    from homes as d
    inner join stg_damp_mould_cases as c
        on c.property_id = d.property_id
        and c.reported_at < d.known_before
    group by d.as_of, c.property_id, d.known_before
),

contacts_in_span as (
    select
        c.property_id,
        c.contacted_at,
        c.reason
    from contacts as c
    inner join span as s
        on c.contacted_at >= s.looks_back_to
        and c.contacted_at < s.known_before
    where c.property_id in (select property_id from home_ids)
),

contact_counts as (
    select
        d.as_of,
        c.property_id,
        count(*) as contacts_1y,
        count(*) filter (where c.reason = 'repair_chase') as repair_chases_1y
    from homes as d
    inner join contacts_in_span as c
        on c.property_id = d.property_id
        and c.contacted_at < d.known_before
        and c.contacted_at >= d.known_before - interval 365 day
    group by d.as_of, c.property_id
),

-- The household whose tenancy covers D: the latest to start, if records overlap (ties by household_id).
tenancy_order as (
    select
        household_id,
        property_id,
        tenancy_start,
        tenancy_end,
        row_number() over (partition by property_id order by tenancy_start, household_id) as tenancy_seq
    from households
    where property_id in (select property_id from home_ids)
),

covering_household as (
    select
        d.as_of,
        h.property_id,
        arg_max(h.household_id, h.tenancy_seq) as household_id
    from homes as d
    inner join tenancy_order as h
        on h.property_id = d.property_id
        and tenancy_covers(h.tenancy_start, h.tenancy_end, d.as_of)
    group by d.as_of, h.property_id
),

tenancy as materialized (
    select
        c.as_of,
        c.property_id,
        c.household_id,
        h.household_size
    from covering_household as c
    inner join households as h on h.household_id = c.household_id
),

vulnerable as (
    select distinct
        t.as_of,
        t.household_id
    from tenancy as t
    inner join vulnerabilities as v
        on v.household_id = t.household_id
        and v.recorded_on <= t.as_of
),

final as (
    select
        h.as_of,
        h.property_id,
        h.region,
        h.area,
        h.property_type,
        h.tenure,
        h.build_year,
        h.epc_rating,
        h.bedrooms,
        t.household_id is not null as is_occupied,
        t.household_size,
        v.household_id is not null as is_vulnerable_household,
        coalesce(dh.dm_cases_1y, 0) as dm_cases_1y,
        coalesce(dh.dm_cases_before_1y, 0) as dm_cases_before_1y,
        dh.days_since_dm_case,
        coalesce(dh.has_open_dm_case, false) as has_open_dm_case,
        dh.latest_case_id,
        coalesce(rc.leak_repairs_2y, 0) as leak_repairs_2y,
        coalesce(rc.roof_repairs_2y, 0) as roof_repairs_2y,
        coalesce(rc.plumbing_repairs_1y, 0) as plumbing_repairs_1y,
        coalesce(rc.heating_repairs_1y, 0) as heating_repairs_1y,
        coalesce(rc.water_repairs_13w, 0) as water_repairs_13w,
        coalesce(rc.heating_repairs_13w, 0) as heating_repairs_13w,
        coalesce(rc.repeat_repairs_1y, 0) as repeat_repairs_1y,
        coalesce(rc.repairs_1y, 0) as repairs_1y,
        coalesce(cc.contacts_1y, 0) as contacts_1y,
        coalesce(cc.repair_chases_1y, 0) as repair_chases_1y
    from homes as h
    left join tenancy as t on t.as_of = h.as_of and t.property_id = h.property_id
    left join vulnerable as v on v.as_of = h.as_of and v.household_id = t.household_id
    left join damp_history as dh on dh.as_of = h.as_of and dh.property_id = h.property_id
    left join repair_counts as rc on rc.as_of = h.as_of and rc.property_id = h.property_id
    left join contact_counts as cc on cc.as_of = h.as_of and cc.property_id = h.property_id
)

select * from final
