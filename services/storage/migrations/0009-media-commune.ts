/**
 * Media belongs to the commune of the account that uploaded it; NULL is the shared library of
 * accounts that address every commune. A commune-limited account sees its own and the shared.
 */
export default /* sql */ `
ALTER TABLE media ADD COLUMN commune_id TEXT;
CREATE INDEX media_commune ON media (commune_id, created_at);
`;
