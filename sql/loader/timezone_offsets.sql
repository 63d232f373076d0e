-- Every IANA zone PostgreSQL knows, with its standard (non-DST) UTC offset in minutes.
-- pg_timezone_names gives the offset now; a zone currently in DST is one hour ahead.
SELECT name,
       (extract(epoch FROM utc_offset)::int / 60) - CASE WHEN is_dst THEN 60 ELSE 0 END
           AS standard_offset_minutes
FROM pg_timezone_names;
