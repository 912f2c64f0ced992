-- 50 users; users 1-5 were registered twice (the second row created later), each athlete row
-- with its own programs, sessions, results, tags, threads and chat lines.
INSERT INTO athletes (user_ref, handle, created_at)
SELECT md5('trainly-user-' || i)::uuid, 'athlete' || i || '-' || v, now() - interval '90 days' + (v || ' days')::interval
FROM generate_series(1, 50) AS i CROSS JOIN generate_series(1, 2) AS v
WHERE v = 1 OR i <= 5
ORDER BY v, i;

INSERT INTO programs (athlete_id, user_ref, title)
SELECT a.athlete_id, a.user_ref, 'Block ' || k FROM athletes a CROSS JOIN generate_series(1, 2) AS k;

INSERT INTO sessions (program_id, session_no, planned_for)
SELECT p.program_id, s, DATE '2026-02-01' + s FROM programs p CROSS JOIN generate_series(1, 3) AS s;

INSERT INTO session_results (program_id, session_no, athlete_id, rpe)
SELECT s.program_id, s.session_no, p.athlete_id, 5 + s.session_no
FROM sessions s JOIN programs p USING (program_id) WHERE s.session_no <= 2;

INSERT INTO program_tags (program_id, tag)
SELECT program_id, 'base' FROM programs;

INSERT INTO chat_threads (athlete_id, topic) SELECT athlete_id, 'intro' FROM athletes;

INSERT INTO chat_lines (thread_id, body)
SELECT t.thread_id, 'line ' || n FROM chat_threads t CROSS JOIN generate_series(1, 3) AS n;
