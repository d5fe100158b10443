-- Staging: the contract tables stay exactly as loaded; these stg_* tables add, once, what the KPI
-- queries read beside the contract columns. They are tables (not views) because they are stored in
-- the order the queries like (repairs by when they stop being open, contacts by reason).

-- Homes (kpis.md "Homes"): whether a property's tenure counts towards "per 1,000 homes"
-- (leasehold excluded) and whether it is a rented home (low-cost rental), from tenure_rules
-- (built from housing_assurance/contract.py, the one list of tenures).
create or replace table stg_properties as
select
    p.*,
    coalesce(r.counts_as_home, false) as counts_as_home,
    coalesce(r.is_rented, false) as is_rented_home
from properties as p
left join tenure_rules as r on r.tenure = p.tenure;

-- A row's home (kpis.md "Scope"): its property_id, or where that is null its household's property;
-- with the home's region, area, tenure and whether it is a rented home.
create or replace macro at_home(table_name) as table
select
    t.*,
    coalesce(t.property_id, hh.property_id) as home_id,
    p.region,
    p.area,
    p.tenure,
    coalesce(p.is_rented_home, false) as is_rented_home
from query_table(table_name) as t
left join households as hh on hh.household_id = t.household_id
left join stg_properties as p on p.property_id = coalesce(t.property_id, hh.property_id);

-- Repair jobs at their homes, with the contractor and whether the job is responsive (emergency,
-- urgent or routine; planned jobs are not). A job is open until the earlier of completed_at and
-- cancelled_at (never, if neither is set); stored in that order so that "open at E" reads only the
-- row groups of jobs still open at E.
create or replace table stg_repairs as
select
    j.* exclude (home_id) replace (j.home_id as property_id),
    coalesce(least(j.completed_at, j.cancelled_at), 'infinity'::timestamp) as open_until,
    k.contractor_name,
    k.is_in_house,
    coalesce(j.priority in ('emergency', 'urgent', 'routine'), false) as is_responsive
from at_home('repairs') as j
left join contractors as k on k.contractor_id = j.contractor_id
order by open_until, j.reported_at;

-- Damp and mould cases and complaints at their homes: here property_id is the home (its own, or its
-- household's), so that look-backs at the home find rows recorded either way.
create or replace table stg_damp_mould_cases as
select c.* exclude (home_id) replace (c.home_id as property_id)
from at_home('damp_mould_cases') as c;

create or replace table stg_complaints as
select c.* exclude (home_id) replace (c.home_id as property_id)
from at_home('complaints') as c;

-- Contacts at their homes, stored by reason, so that the repair-chase searches skip every other contact.
create or replace table stg_contacts as
select c.* exclude (home_id, region, area, tenure, is_rented_home) replace (c.home_id as property_id)
from at_home('contacts') as c
order by c.reason, c.job_id, c.contacted_at;

-- When each household first had a vulnerability recorded (kept once; "vulnerable at D" reads it).
create or replace table stg_household_vulnerable_since as
select household_id, min(recorded_on) as vulnerable_since
from vulnerabilities
group by household_id;
