-- 50 owners; owners 1-5 joined twice. Only the copy that will survive (the greater
-- member_uuid) has a primary goal, and the two copies checked in on different days.
insert into app.member (member_uuid, owner_id, email)
select md5('coachr-member-' || i || '-' || v)::uuid, md5('coachr-owner-' || i)::uuid, 'm' || i || '@coachr.test'
from generate_series(1, 50) as i cross join generate_series(1, 2) as v
where v = 1 or i <= 5;

-- the copy doctor keeps: no timestamps, so the greatest primary key
create function pg_temp.app_survivor(p_owner uuid) returns uuid language sql stable as $$
    select x.member_uuid from app.member x where x.owner_id = p_owner order by x.member_uuid desc limit 1
$$;

insert into app.goal (member_uuid, label, is_primary)
select m.member_uuid, 'goal ' || g,
       g = 1 and m.member_uuid = pg_temp.app_survivor(m.owner_id)
from app.member m cross join generate_series(1, 2) as g;

insert into app.checkin (member_uuid, goal_id, day, mood)
select m.member_uuid, (select min(id) from app.goal g where g.member_uuid = m.member_uuid),
       date '2026-03-01' + d + case when m.member_uuid = pg_temp.app_survivor(m.owner_id) then 0 else 10 end,
       3
from app.member m cross join generate_series(1, 3) as d;

insert into app.coach_note (author_member, subject_member, body)
select m.member_uuid, m.member_uuid, 'self note' from app.member m
union all
select a.member_uuid, b.member_uuid, 'peer note'
from app.member a join app.member b on b.owner_id = md5('coachr-owner-' || 1)::uuid
where a.owner_id = md5('coachr-owner-' || 2)::uuid;
