-- A lease per job (e.g. "report:KEY"): the replica holding an unexpired
-- lease computes, the others skip, so one replica refreshes a given
-- experiment's report at a time.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  INTEGER NOT NULL
);
