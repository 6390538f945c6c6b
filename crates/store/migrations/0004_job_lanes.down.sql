DROP INDEX jobs_lane;
CREATE INDEX jobs_serial ON jobs (serial_key, status);
DROP INDEX jobs_leased;
DROP INDEX jobs_due;
