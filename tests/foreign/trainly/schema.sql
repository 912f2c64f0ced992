-- Trainly: a plain PostgreSQL backend (no Supabase, no auth schema, no API roles), written
-- by a team that likes upper-case SQL and bigint identities. "athletes" are profiles,
-- keyed by a generated bigint; the owner is user_ref. No updated_at anywhere: the newest
-- row is the one created last. A composite foreign key that includes the owner, a composite
-- primary key, and the bug in a SQL-language function.

CREATE TABLE athletes (
    athlete_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_ref    UUID NOT NULL,
    handle      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT athletes_id_user_key UNIQUE (athlete_id, user_ref)
);

CREATE TABLE programs (
    program_id  BIGSERIAL PRIMARY KEY,
    athlete_id  BIGINT NOT NULL,
    user_ref    UUID NOT NULL,
    title       TEXT NOT NULL,
    CONSTRAINT programs_athlete_fk FOREIGN KEY (athlete_id, user_ref)
        REFERENCES athletes (athlete_id, user_ref) ON DELETE CASCADE
);
CREATE INDEX programs_athlete_idx ON programs (athlete_id, user_ref);

CREATE TABLE sessions (
    program_id   BIGINT NOT NULL REFERENCES programs (program_id) ON DELETE CASCADE,
    session_no   INT NOT NULL,
    planned_for  DATE NOT NULL,
    PRIMARY KEY (program_id, session_no)
);

CREATE TABLE session_results (
    program_id  BIGINT NOT NULL,
    session_no  INT NOT NULL,
    athlete_id  BIGINT NOT NULL REFERENCES athletes (athlete_id),
    rpe         INT CHECK (rpe BETWEEN 1 AND 10),
    PRIMARY KEY (program_id, session_no),
    FOREIGN KEY (program_id, session_no) REFERENCES sessions ON DELETE CASCADE
);

CREATE TABLE chat_threads (
    thread_id   BIGSERIAL PRIMARY KEY,
    athlete_id  BIGINT NOT NULL REFERENCES athletes (athlete_id) ON DELETE CASCADE,
    topic       TEXT
);

CREATE TABLE chat_lines (
    line_id    BIGSERIAL PRIMARY KEY,
    thread_id  BIGINT NOT NULL REFERENCES chat_threads ON DELETE CASCADE,
    body       TEXT NOT NULL,
    sent_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE program_tags (
    program_id  BIGINT NOT NULL REFERENCES programs ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (program_id, tag)
);

-- the bug: no unique key on athletes (user_ref)
CREATE FUNCTION register_athlete(p_user UUID, p_handle TEXT) RETURNS BIGINT
LANGUAGE sql AS $$
    INSERT INTO athletes (user_ref, handle) VALUES (p_user, p_handle)
    ON CONFLICT (user_ref) DO UPDATE SET handle = EXCLUDED.handle
    RETURNING athlete_id;
$$;

-- legitimate: program_tags_pkey is there
CREATE FUNCTION tag_program(p_program BIGINT, p_tag TEXT) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO program_tags (program_id, tag) VALUES (p_program, p_tag)
    ON CONFLICT ON CONSTRAINT program_tags_pkey DO NOTHING;
$$;
