-- STO-5 on embedded defaults: the durable log behind the embedded bus (bus/outbox-bus.ts). A
-- publish resolves only after its row committed here, so an acknowledged message survives a
-- crash; consumers resume from their cursor in `bus_consumers`; rows every consumer has
-- acknowledged are deleted. With NATS JetStream configured these tables stay empty.
--
-- No row-level security: these rows are the bus's, never read through a tenant API, and one
-- consumer (the timeline indexer) reads every tenant's messages to store them under RLS. The
-- application role may append, read and delete messages, and keep its cursors; nothing more.
CREATE TABLE bus_outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject text NOT NULL,
  -- the publisher's de-duplication id (the event id for timeline events)
  msg_id text NOT NULL,
  -- the message as published, byte for byte
  data bytea NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bus_consumers (
  durable text PRIMARY KEY,
  filter_subject text NOT NULL,
  -- every message matching the filter with seq <= acked_seq has been acknowledged
  acked_seq bigint NOT NULL DEFAULT 0,
  -- last time a process consumed under this name (names unused for long are forgotten)
  seen_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, DELETE ON bus_outbox TO {{app_role}};
GRANT SELECT, INSERT, UPDATE, DELETE ON bus_consumers TO {{app_role}};
