-- Chain of custody (SPEC TL-5): steps name the chain's subject in details.custody.subject;
-- this index finds them without scanning the tenant's timeline.
CREATE INDEX timeline_events_custody_subject ON timeline_events (tenant_id, ((details -> 'custody' ->> 'subject')))
  WHERE details ? 'custody';
